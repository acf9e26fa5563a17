import { blockingKey, matchPerson, type PersonKeys } from './person-match';

const sam: PersonKeys = { lastName: 'Taylor', dateOfBirth: '1991-03-14', firstName: 'Sam', postcode: 'PO4 8AA', policePersonId: null, nhsNumber: null };

describe('matching a person across referrals', () => {
  it('is certain on last name and date of birth with the same first name, whatever the case, accents or spacing', () => {
    expect(matchPerson(sam, { ...sam, lastName: 'TAYLOR ', firstName: 'sam', postcode: null })).toBe('certain');
    expect(matchPerson({ ...sam, lastName: "O'Brien" }, { ...sam, lastName: 'obrien' })).toBe('certain');
  });

  it('is certain on last name and date of birth with the same postcode', () => {
    expect(matchPerson(sam, { ...sam, firstName: 'Samantha', postcode: 'po48aa' })).toBe('certain');
  });

  it('is only possible on last name and date of birth alone, for a person to confirm', () => {
    expect(matchPerson(sam, { ...sam, firstName: 'Samantha', postcode: 'PO1 1AA' })).toBe('possible');
  });

  it('lets a police person id or NHS number decide when both referrals have one', () => {
    expect(matchPerson({ ...sam, policePersonId: 'P1' }, { ...sam, policePersonId: 'P2' })).toBe('none');
    expect(matchPerson({ ...sam, policePersonId: 'P1' }, { ...sam, lastName: 'Smith', policePersonId: 'P1' })).toBe('certain');
    expect(matchPerson({ ...sam, nhsNumber: '9434765919' }, { ...sam, nhsNumber: '9434765870' })).toBe('none');
  });

  it('never matches a different date of birth', () => {
    expect(matchPerson(sam, { ...sam, dateOfBirth: '1991-03-15' })).toBe('none');
  });

  it('gives matching people the same blocking key', () => {
    expect(blockingKey(sam)).toBe(blockingKey({ lastName: 'taylor', dateOfBirth: '1991-03-14' }));
  });
});

describe('names in other scripts', () => {
  const olena: PersonKeys = { lastName: 'Коваленко', firstName: 'Олена', dateOfBirth: '1990-05-01', postcode: 'PO1 2AB', policePersonId: null, nhsNumber: null };
  const amira: PersonKeys = { lastName: 'حداد', firstName: 'أميرة', dateOfBirth: '1990-05-01', postcode: 'PO1 2AB', policePersonId: null, nhsNumber: null };

  it('tells two women apart whose names share no letter of a–z, though born the same day at the same postcode', () => {
    expect(matchPerson(olena, amira)).toBe('none');
    expect(blockingKey(olena)).not.toBe(blockingKey(amira));
    expect(matchPerson(olena, { ...amira, postcode: 'PO4 8AA' })).toBe('none');
  });

  it('matches the same person in her own script, whatever the case or the accents', () => {
    expect(matchPerson(olena, { ...olena, lastName: 'КОВАЛЕНКО', postcode: null })).toBe('certain');
    expect(blockingKey({ lastName: 'Müller-Łukasiewicz', dateOfBirth: '1990-05-01' })).toBe('mullerłukasiewicz|1990-05-01');
  });

  it('keeps the marks other scripts write vowels and sounds with: only accents are dropped', () => {
    const priya = { ...olena, firstName: 'प्रिया' };
    expect(matchPerson({ ...priya, lastName: 'कुमार' }, { ...priya, lastName: 'कमरा' })).toBe('none');
    expect(blockingKey({ lastName: 'सिंह', dateOfBirth: '1990-05-01' })).not.toBe(blockingKey({ lastName: 'साह', dateOfBirth: '1990-05-01' }));
    expect(blockingKey({ lastName: 'ガ', dateOfBirth: '1990-05-01' })).not.toBe(blockingKey({ lastName: 'カ', dateOfBirth: '1990-05-01' }));
    expect(matchPerson({ ...priya, lastName: 'कुमार' }, { ...priya, lastName: 'कुमार' })).toBe('certain');
  });

  it("matches a name written with or without the marks it may be written without: Arabic's vowels and hamza, Hebrew's points", () => {
    const key = (lastName: string) => blockingKey({ lastName, dateOfBirth: '1990-05-01' });
    expect(key('مُحَمَّد')).toBe(key('محمد'));
    expect(key('أحمد')).toBe(key('احمد'));
    expect(key('כֹּהֵן')).toBe(key('כהן'));
    expect(key('\u064e\u0650')).toBeNull(); // marks alone are no name
  });

  it('matches no one by a last name with no letters in it', () => {
    const dashes = { ...olena, lastName: '--' };
    expect(matchPerson(dashes, { ...amira, lastName: '?' })).toBe('none');
    expect(blockingKey(dashes)).toBeNull();
  });
});

