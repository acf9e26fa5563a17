import { ValidationTypes, getMetadataStorage, type ValidationArguments } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

/**
 * A fast yes/no answer to "would class-validator accept this JSON body?", worked out from class-validator's own
 * metadata (the DTOs' decorators stay the one place the rules are written), without class-transformer and without
 * class-validator's per-call metadata lookups, which together cost about a quarter of a referral's CPU.
 *
 * It is a filter, not a second validator: `true` only when every check the class-validator run would make passes
 * on the same values; anything it does not model (a class prototype, arrays of arrays, async or grouped checks, a
 * nested class it was not told of) answers `false`, and the caller then asks class-validator itself, which also
 * writes the problems for a 400. Soundness is tested against class-validator over mutated bodies.
 */

interface PropertyPlan {
  name: string;
  conditions: Array<(object: unknown, value: unknown) => boolean>;
  /** `IsDefined` first and then the others, as class-validator runs them. */
  checks: Check[];
  /** The class each nested value is validated against; empty when the property has no nested validation. */
  nested: Array<new () => object>;
}

interface Check {
  metadata: ValidationMetadata;
  validate: (value: unknown, args: ValidationArguments) => unknown;
}

interface ClassPlan {
  properties: PropertyPlan[];
  allowed: Set<string>;
}

/** The class a property's nested values are turned into (class-transformer's `@Type`), recorded by our decorators. */
const nestedTypes = new WeakMap<object, Map<string, () => Function>>();

export function recordNestedType(target: object, property: string, type: () => Function): void {
  const own = nestedTypes.get(target) ?? new Map<string, () => Function>();
  own.set(property, type);
  nestedTypes.set(target, own);
}

function nestedTypeOf(cls: Function, property: string): (() => Function) | undefined {
  for (let prototype = cls.prototype; prototype && prototype !== Object.prototype; prototype = Object.getPrototypeOf(prototype)) {
    const type = nestedTypes.get(prototype)?.get(property);
    if (type) return type;
  }
  return undefined;
}

// null: the class uses something this plan does not model, so class-validator always decides.
const plans = new Map<Function, ClassPlan | null>();

function planOf(cls: Function): ClassPlan | null {
  if (plans.has(cls)) return plans.get(cls)!;
  const plan = compile(cls);
  plans.set(cls, plan);
  return plan;
}

function compile(cls: Function): ClassPlan | null {
  const storage = getMetadataStorage();
  // The same lookup class-validator makes for `validateSync(instance, options)`: no schema, no groups.
  const metadatas = storage.getTargetValidationMetadatas(cls, undefined as unknown as string, false, false, undefined);
  if (metadatas.length === 0) return null;
  const grouped = storage.groupByPropertyName(metadatas);
  const properties: PropertyPlan[] = [];
  for (const [name, own] of Object.entries(grouped)) {
    const plan: PropertyPlan = { name, conditions: [], checks: [], nested: [] };
    const defined = own.filter((metadata) => metadata.type === ValidationTypes.IS_DEFINED);
    const custom = own.filter((metadata) => metadata.type === ValidationTypes.CUSTOM_VALIDATION);
    for (const metadata of own) {
      if ((metadata.groups?.length ?? 0) > 0 || metadata.always) return null;
      switch (metadata.type) {
        case ValidationTypes.CONDITIONAL_VALIDATION:
          plan.conditions.push(metadata.constraints[0] as (object: unknown, value: unknown) => boolean);
          break;
        case ValidationTypes.NESTED_VALIDATION: {
          const type = nestedTypeOf(cls, name);
          if (!type) return null;
          plan.nested.push(type() as new () => object);
          break;
        }
        case ValidationTypes.IS_DEFINED:
        case ValidationTypes.CUSTOM_VALIDATION:
        case ValidationTypes.WHITELIST:
          break;
        default:
          return null;
      }
    }
    for (const metadata of [...defined, ...custom]) {
      for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
        if (constraint.async) return null;
        const instance = constraint.instance as { validate: Check['validate'] };
        plan.checks.push({ metadata, validate: instance.validate.bind(instance) });
      }
    }
    properties.push(plan);
  }
  const allowed = new Set(properties.map((property) => property.name));
  // class-transformer starts from `new cls()`: a field it initialises (a default, or a declared field with no
  // check, which the whitelist then rejects) would be validated on a value the body does not hold.
  const fresh = new (cls as new () => Record<string, unknown>)();
  if (Object.entries(fresh).some(([key, value]) => value !== undefined || !allowed.has(key))) return null;
  return { properties, allowed };
}

/** True only if class-validator (whitelist, forbidNonWhitelisted, forbidUnknownValues) would accept `body` as `cls`. */
export function surelyValid(cls: Function, body: unknown): boolean {
  return objectValid(cls, body);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function objectValid(cls: Function, object: unknown): boolean {
  const plan = planOf(cls);
  if (!plan || !isPlainObject(object)) return false;
  for (const key of Object.keys(object)) if (!plan.allowed.has(key)) return false;
  for (const property of plan.properties) {
    const value = object[property.name];
    if (!property.conditions.every((condition) => condition(object, value))) continue;
    for (const { metadata, validate } of property.checks) {
      const args: ValidationArguments = { targetName: cls.name, property: property.name, object, value, constraints: metadata.constraints };
      if (metadata.each && Array.isArray(value)) {
        for (const item of value) if (!settled(validate(item, args))) return false;
      } else if (!settled(validate(value, args))) return false;
    }
    if (value === undefined) continue;
    for (const type of property.nested) {
      if (Array.isArray(value)) {
        // Items that are arrays themselves are turned into arrays of the class by class-transformer: not modelled.
        for (const item of value) if (!objectValid(type, item)) return false;
      } else if (!objectValid(type, value)) return false;
    }
  }
  return true;
}

// A promise (an async check in a sync run) is not an answer this filter can rely on.
function settled(result: unknown): boolean {
  return result === true || (Boolean(result) && !(result instanceof Promise));
}
