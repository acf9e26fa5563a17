/**
 * Matching a person across referrals (routing-policy.md, repeat victimisation): a police person id or NHS number,
 * when both referrals have it, decides; otherwise normalised last name and date of birth, tightened by first name
 * or postcode. Last name and date of birth alone is only possible: flagged for a person to confirm, never merged.
 */
export interface PersonKeys {
  lastName: string;
  dateOfBirth: string;
  firstName: string | null;
  postcode: string | null;
  policePersonId: string | null;
  nhsNumber: string | null;
}

export type MatchStrength = 'certain' | 'possible' | 'none';

/**
 * Accents, case, spaces and punctuation aside, the letters of any script: a name typed in Cyrillic or Arabic is a
 * name (kept to a–z, it was nothing, and every such person matched every other one born the same day). Only the
 * combining accents are dropped (é is e); the marks other scripts write vowels and sounds with stay (सिंह is not साह,
 * ガ is not カ).
 */
export function normaliseName(name: string | null): string | null {
  if (!name) return null;
  const folded = name.normalize('NFKD').replace(OPTIONAL_MARKS, '').toLowerCase().replace(/[^\p{L}\p{M}]/gu, '');
  return /\p{L}/u.test(folded) ? folded : null;
}

/**
 * Marks a name is written with or without and stays the same name: the combining accents, Arabic's short vowels,
 * shadda and hamza on a carrier (أ is ا with a mark), and Hebrew's points and cantillation.
 */
const OPTIONAL_MARKS = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u064b-\u065f\u0670\u06d6-\u06ed\u0591-\u05c7]/g;

export function normalisePostcode(postcode: string | null): string | null {
  return postcode ? postcode.toUpperCase().replace(/\s+/g, '') || null : null;
}

export function matchPerson(a: PersonKeys, b: PersonKeys): MatchStrength {
  if (a.policePersonId && b.policePersonId) return a.policePersonId === b.policePersonId ? 'certain' : 'none';
  if (a.nhsNumber && b.nhsNumber) return a.nhsNumber === b.nhsNumber ? 'certain' : 'none';
  // A last name with no letters in it names no one: it matches nobody, not everybody without one.
  const lastName = normaliseName(a.lastName);
  if (lastName === null || lastName !== normaliseName(b.lastName) || a.dateOfBirth !== b.dateOfBirth) return 'none';
  const sameFirst = normaliseName(a.firstName) !== null && normaliseName(a.firstName) === normaliseName(b.firstName);
  const samePostcode = normalisePostcode(a.postcode) !== null && normalisePostcode(a.postcode) === normalisePostcode(b.postcode);
  return sameFirst || samePostcode ? 'certain' : 'possible';
}

/** The coarse key candidates are looked up by: every certain or possible match shares it. Null: no name to match by. */
export function blockingKey(keys: Pick<PersonKeys, 'lastName' | 'dateOfBirth'>): string | null {
  const lastName = normaliseName(keys.lastName);
  return lastName === null ? null : `${lastName}|${keys.dateOfBirth}`;
}
