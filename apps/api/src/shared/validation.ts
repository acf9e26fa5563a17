import 'reflect-metadata';
import { Type, plainToInstance } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsObject,
  IsOptional,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  ValidationError,
  ValidatorOptions,
  isEmail,
  registerDecorator,
  validateSync,
} from 'class-validator';
import { recordNestedType, surelyValid } from './validation-plan';

/** One entry of a 400's `details`: where, and what is wrong. Never the submitted value (it may be personal data). */
export interface FieldProblem {
  field: string;
  problem: string;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; details: FieldProblem[] };

// `value` is kept on the errors only to tell array items from object keys when building paths; it never reaches a message.
const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: true },
};

/**
 * Bounds on a body's structure, checked before the (much slower) class-based validation. A referral has about
 * 230 values at most (20 children included), so the defaults leave room to grow while keeping a hostile
 * 256 KiB body (tens of thousands of array items or unknown keys) from costing seconds of CPU and a
 * megabyte-long answer. The DTOs' own, tighter limits (20 children) are reported as usual.
 */
export interface InputLimits {
  maxValues: number;
  maxDepth: number;
  maxArrayItems: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = { maxValues: 1000, maxDepth: 16, maxArrayItems: 100 };

/**
 * Validates a parsed JSON body against a DTO class and lists every problem, each with its dotted path
 * (`subject.dateOfBirth`, `children[1].dateOfBirth`, `riskAssessment.answers.Q7`). Synchronous on purpose:
 * it runs once per request on the hot path.
 */
export function validateInput<T extends object>(
  cls: new () => T,
  body: unknown,
  limits: InputLimits = DEFAULT_INPUT_LIMITS,
): ValidationResult<T> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, details: [{ field: '', problem: 'must be a JSON object' }] };
  }
  const structure = structureProblem(body, limits);
  if (typeof structure === 'string') return { ok: false, details: [{ field: '', problem: structure }] };
  // A valid body is the common case: the compiled filter confirms it cheaply, and class-transformer would only have
  // copied it into instances (no DTO transforms values). Anything else goes to class-validator for the 400.
  if (!structure.reservedKeys && surelyValid(cls, body)) return { ok: true, value: body as T };
  const result = validateWithClassValidator(cls, body);
  if (!structure.reservedKeys) return result;
  // class-transformer drops these keys without a word, so class-validator never sees them: refused here instead,
  // like any other field the DTO does not declare.
  const reserved = reservedKeyPaths(body).map((field) => ({ field, problem: FIXED_MESSAGES.whitelistValidation }));
  const others = result.ok ? [] : result.details.filter((other) => !reserved.some((key) => key.field === other.field && key.problem === other.problem));
  return { ok: false, details: [...reserved, ...others] };
}

/** class-validator itself, on class-transformer's instances: the reference the compiled filter is tested against. */
export function validateWithClassValidator<T extends object>(cls: new () => T, body: object): ValidationResult<T> {
  const value = plainToInstance(cls, body);
  const errors = validateSync(value, VALIDATOR_OPTIONS);
  if (errors.length === 0) return { ok: true, value };
  const details: FieldProblem[] = [];
  collectProblems(errors, '', false, details);
  return { ok: false, details };
}

/** Keys JSON.parse keeps as ordinary properties but that class-transformer silently leaves out. */
const RESERVED_KEYS = ['__proto__', 'constructor', 'prototype'];

function hasReservedKey(node: object): boolean {
  return RESERVED_KEYS.some((key) => Object.prototype.hasOwnProperty.call(node, key));
}

// Iterative, so that a deeply nested body cannot overflow the stack here before the depth bound stops it.
function structureProblem(body: object, limits: InputLimits): string | { reservedKeys: boolean } {
  const nodes: unknown[] = [body];
  const depths: number[] = [0];
  let count = 0;
  let reservedKeys = false;
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop() as number;
    if (++count > limits.maxValues) return `is too large: more than ${limits.maxValues} values`;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= limits.maxDepth) return `is nested too deeply: more than ${limits.maxDepth} levels`;
    if (Array.isArray(node) && node.length > limits.maxArrayItems) return `has a list of more than ${limits.maxArrayItems} items`;
    if (!Array.isArray(node) && hasReservedKey(node)) reservedKeys = true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      nodes.push(child);
      depths.push(depth + 1);
    }
  }
  return { reservedKeys };
}

/** Where the reserved keys are; only asked once the structure walk has found one, and within its bounds. */
function reservedKeyPaths(node: unknown, path = ''): string[] {
  if (typeof node !== 'object' || node === null) return [];
  if (Array.isArray(node)) return node.flatMap((item, index) => reservedKeyPaths(item, `${path}[${index}]`));
  return Object.keys(node).flatMap((key) =>
    RESERVED_KEYS.includes(key) ? [childPath(path, key, false)] : reservedKeyPaths((node as Record<string, unknown>)[key], childPath(path, key, false)),
  );
}

// A missing value makes its other checks ("must be a string") noise; a value of the wrong shape makes its
// length and member checks noise. Only the most basic failure is reported for each field.
const REQUIRED_CONSTRAINTS = new Set(['isDefined', 'requiredWhen']);
const SHAPE_CONSTRAINTS = new Set(['isObject', 'isArray', 'isListOfObjects', 'nestedValidation', 'unknownValue']);
// An object that should not be there at all is not worth reporting field by field, nor the items of an array
// that is too long (they may be thousands).
const SKIP_CHILDREN_CONSTRAINTS = new Set([...SHAPE_CONSTRAINTS, 'allowedWhen', 'arrayMaxSize']);

const FIXED_MESSAGES: Record<string, string> = {
  whitelistValidation: 'is not allowed',
  unknownValue: 'must be an object',
};

function collectProblems(errors: ValidationError[], parentPath: string, parentIsArray: boolean, out: FieldProblem[]): void {
  for (const error of errors) {
    const field = childPath(parentPath, error.property, parentIsArray);
    let skipChildren = false;
    if (error.constraints) {
      const keys = Object.keys(error.constraints);
      const required = keys.filter((key) => REQUIRED_CONSTRAINTS.has(key));
      const shape = keys.filter((key) => SHAPE_CONSTRAINTS.has(key));
      const shown = required.length > 0 ? required : shape.length > 0 ? shape : keys;
      const seen = new Set<string>();
      for (const key of shown) {
        const problem = FIXED_MESSAGES[key] ?? error.constraints[key];
        if (seen.has(problem)) continue;
        seen.add(problem);
        out.push({ field, problem });
      }
      skipChildren = keys.some((key) => SKIP_CHILDREN_CONSTRAINTS.has(key));
    }
    if (!skipChildren && error.children && error.children.length > 0) {
      collectProblems(error.children, field, Array.isArray(error.value), out);
    }
  }
}

const INDEX = /^\d+$/;
// Unknown keys are the client's own text: bound them and drop control characters before they go into a path.
const MAX_KEY_LENGTH = 64;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

function childPath(parent: string, property: string | undefined, parentIsArray: boolean): string {
  if (property === undefined) return parent;
  if (parentIsArray && INDEX.test(property)) return `${parent}[${property}]`;
  let key = property.replace(CONTROL_CHARACTERS, '');
  if (key.length > MAX_KEY_LENGTH) key = `${key.slice(0, MAX_KEY_LENGTH)}…`;
  return parent === '' ? key : `${parent}.${key}`;
}

// ---------------------------------------------------------------------------------------------------------
// Decorators. Every one carries its own message, so no class-validator default (some echo `$value`) is used.
// A leaf field gets one check that also decides presence: each extra decorator costs time on every request.
// ---------------------------------------------------------------------------------------------------------

type Condition = (object: any) => boolean;

/** `required`: absent or null is "is required". Otherwise absent or null is accepted. */
export interface Presence {
  required?: boolean;
}

/** Applies several property decorators as one. */
export function all(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, propertyKey) => {
    for (const decorate of decorators) decorate(target, propertyKey);
  };
}

/** For nested objects; leaf checks take `{ required: true }` instead. */
export const Required = (): PropertyDecorator => IsDefined({ message: 'is required' });

/** For nested objects: absent or null skips the field's other checks. */
export const Optional = (): PropertyDecorator => IsOptional();

/** Absent or null is fine unless `condition` holds for the enclosing object; a given value is always checked. */
export function RequiredWhen(condition: Condition, message: string): PropertyDecorator {
  return all(
    ValidateIf((object, value) => (value !== undefined && value !== null) || condition(object)),
    custom('requiredWhen', message, (value) => value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '')),
  );
}

/** A value (anything but absent or null) is only accepted when `condition` holds for the enclosing object. */
export function AllowedWhen(condition: Condition, message: string): PropertyDecorator {
  return custom('allowedWhen', message, (value, object) => value === undefined || value === null || condition(object));
}

/** A rule that involves other fields of the same object. */
export function Satisfies(name: string, rule: (value: unknown, object: any) => boolean, message: string): PropertyDecorator {
  return custom(name, message, rule);
}

const LONE_SURROGATE = /\p{Cs}/u;
// Invisible characters that change what a reader sees: controls (a NUL, a bell; tabs and line breaks are text) and
// the bidirectional overrides and isolates, which can show a caseworker a name or a note reversed or reordered.
// Invisible direction marks: in a name they come with right-to-left keyboards, but an address has none of them.
const DIRECTION_MARKS = /[\u200e\u200f\u061c]/u;
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/u;

/** A string; when required it must not be blank either. */
export function IsText(maxLength: number, presence: Presence = {}): PropertyDecorator {
  return checked('isText', presence, (value) => {
    if (typeof value !== 'string') return 'must be a string';
    // Half of a UTF-16 pair has no meaning on its own and is stored as U+FFFD, so two different texts would
    // become one (two agency references, one referral).
    if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text';
    if (CONTROL.test(value)) return 'must not contain control characters';
    if (presence.required && value.trim() === '') return 'must not be blank';
    if (value.length > maxLength) return `must be at most ${maxLength} characters`;
    return null;
  });
}

export function IsFlag(presence: Presence = {}): PropertyDecorator {
  return checked('isFlag', presence, (value) => (typeof value === 'boolean' ? null : 'must be true or false'));
}

export function IsOneOf(values: readonly string[], presence: Presence = {}): PropertyDecorator {
  const allowed = new Set<unknown>(values);
  const message = `must be one of: ${values.join(', ')}`;
  return checked('isOneOf', presence, (value) => (allowed.has(value) ? null : message));
}

export function IsPattern(pattern: RegExp, message: string, presence: Presence = {}): PropertyDecorator {
  return checked('isPattern', presence, (value) => (typeof value === 'string' && pattern.test(value) ? null : message));
}

export function IsEmailAddress(presence: Presence = {}): PropertyDecorator {
  // isEmail lets bidirectional overrides through, which would show a caseworker another address than the one stored.
  return checked('isEmailAddress', presence, (value) => (typeof value === 'string' && isEmail(value) && !CONTROL.test(value) && !DIRECTION_MARKS.test(value) ? null : 'must be an email address'));
}

export function IsIntegerInRange(min: number, max: number, presence: Presence = {}): PropertyDecorator {
  const message = `must be a whole number from ${min} to ${max}`;
  return checked('isIntegerInRange', presence, (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max ? null : message,
  );
}

/** A `YYYY-MM-DD` date that exists in the calendar (no 2021-02-30). */
export function IsCalendarDate(options: Presence & { notFuture?: boolean } = {}): PropertyDecorator {
  return checked('isCalendarDate', options, (value) => calendarDateProblem(value, options.notFuture ?? false));
}

/** An ISO 8601 instant with an explicit offset (`Z` or `±hh:mm`), so that it names one moment. */
export function IsInstant(options: Presence & { notFuture?: boolean } = {}): PropertyDecorator {
  return checked('isInstant', options, (value) => instantProblem(value, options.notFuture ?? false));
}

/** A nested object validated against its own class. */
export function IsNested(type: () => Function): PropertyDecorator {
  return all(
    IsObject({ message: 'must be an object' }),
    ValidateNested({ message: 'must be an object' }),
    Type(type) as PropertyDecorator,
    (target, propertyKey) => recordNestedType(target, propertyKey as string, type),
  );
}

/** An array of nested objects, each validated against its own class. */
export function IsNestedArray(type: () => Function, maxItems: number): PropertyDecorator {
  return all(
    IsArray({ message: 'must be an array' }),
    ArrayMaxSize(maxItems, { message: `must have at most ${maxItems} items` }),
    // ValidateNested takes a list inside the list for more items of the class and lets it through unchecked (an
    // item that is not an object at all it reports by its index).
    custom('isListOfObjects', 'must be a list of objects, not of lists', (value) => !Array.isArray(value) || !value.some(Array.isArray)),
    ValidateNested({ message: 'must be an object' }),
    Type(type) as PropertyDecorator,
    (target, propertyKey) => recordNestedType(target, propertyKey as string, type),
  );
}

function custom(name: string, message: string, validate: (value: unknown, object: any) => boolean): PropertyDecorator {
  return (target, propertyKey) => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyKey as string,
      options: { message },
      validator: { validate: (value: unknown, args: ValidationArguments) => validate(value, args.object) },
    });
  };
}

/** A leaf check whose message depends on what is wrong; the message is worked out again only on failure. */
function checked(name: string, presence: Presence, problemOfValue: (value: unknown) => string | null): PropertyDecorator {
  const required = presence.required ?? false;
  const problem = (value: unknown): string | null =>
    value === undefined || value === null ? (required ? 'is required' : null) : problemOfValue(value);
  return (target, propertyKey) => {
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyKey as string,
      validator: {
        validate: (value: unknown) => problem(value) === null,
        defaultMessage: (args?: ValidationArguments) => problem(args?.value) ?? 'is not valid',
      },
    });
  };
}

// ---------------------------------------------------------------------------------------------------------
// Dates and instants
// ---------------------------------------------------------------------------------------------------------

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2}))$/;
const EARLIEST_YEAR = 1900;
/** Clocks of referring systems drift; an instant this far ahead of ours is still "now". */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function calendarDateProblem(value: unknown, notFuture: boolean): string | null {
  const match = typeof value === 'string' ? DATE.exec(value) : null;
  if (!match || !isRealDate(+match[1], +match[2], +match[3])) return 'must be a date YYYY-MM-DD';
  if (+match[1] < EARLIEST_YEAR) return `must not be before ${EARLIEST_YEAR}-01-01`;
  if (notFuture && (value as string) > todayInLondon()) return 'must not be in the future';
  return null;
}

export function instantProblem(value: unknown, notFuture: boolean): string | null {
  const match = typeof value === 'string' ? INSTANT.exec(value) : null;
  const wrong = 'must be an ISO 8601 instant with offset, e.g. 2026-11-21T01:00:00Z';
  if (!match) return wrong;
  const [, y, mo, d, h, mi, s = '0', fraction = '0', sign, oh = '0', om = '0'] = match;
  if (!isRealDate(+y, +mo, +d) || +h > 23 || +mi > 59 || +s > 59 || +oh > 14 || +om > 59) return wrong;
  if (+y < EARLIEST_YEAR) return `must not be before ${EARLIEST_YEAR}-01-01`;
  if (notFuture) {
    const offsetMs = (sign === '-' ? -1 : 1) * (+oh * 60 + +om) * 60_000;
    const epochMs = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.floor(+`0.${fraction}` * 1000)) - offsetMs;
    if (epochMs > Date.now() + CLOCK_SKEW_MS) return 'must not be in the future';
  }
  return null;
}

// "Today" for a date of birth is the service's local day (it serves England), not UTC's: a child born just
// after midnight BST must not be "in the future". Formatting a date in a time zone is slow, so it is cached
// until the next minute.
const LONDON_DAY = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
let cachedToday = '';
let cachedUntil = 0;

function todayInLondon(): string {
  const now = Date.now();
  if (now >= cachedUntil) {
    const parts = LONDON_DAY.formatToParts(now);
    const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    cachedToday = `${part('year')}-${part('month')}-${part('day')}`;
    cachedUntil = now - (now % 60_000) + 60_000;
  }
  return cachedToday;
}
