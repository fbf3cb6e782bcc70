/**
 * The three access levels of a meeting key. The numeric codes are the ones
 * seed 004's API uses in `role` fields.
 */
export type Role = 'host' | 'participant' | 'listener';

export const ROLE_CODES: Readonly<Record<Role, number>> = { host: 1, participant: 2, listener: 3 };

export function roleFromCode(code: number): Role | undefined {
  return (Object.keys(ROLE_CODES) as Role[]).find((role) => ROLE_CODES[role] === code);
}

export function parseRole(value: string): Role | undefined {
  const lower = value.toLowerCase();
  if (lower === 'host' || lower === 'participant' || lower === 'listener') return lower;
  const byCode = /^\d+$/.test(value) ? roleFromCode(Number(value)) : undefined;
  return byCode;
}

/** Whether a role's audio may ever enter the mix. Listeners are never heard. */
export function roleCanSpeak(role: Role): boolean {
  return role !== 'listener';
}
