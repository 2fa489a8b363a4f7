import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { ConflictError, ForbiddenError, SecretBox, TransactionRunner, ValidationError } from '@wharf/core';
import { checkTotp, generateRecoveryCodes, generateTotpSecret, totpUri, UserEntity, verifyPassword } from '@wharf/identity';
import { actorOf, Principal } from '../access/principal';

function requireUser(p: Principal): string {
  if (p.kind !== 'user' || !p.userId) throw new ForbiddenError('Only a signed-in user can manage two-factor authentication');
  return p.userId;
}

/** The pending TOTP secret and its otpauth:// URI (for a QR code). */
export interface TwoFactorEnrollment {
  secret: string;
  otpauthUri: string;
}
export class BeginTwoFactorCommand extends Command<TwoFactorEnrollment> {
  constructor(readonly principal: Principal) {
    super();
  }
}

/** Step 1: a new secret (stored encrypted, not yet enabled) and its otpauth:// URI for a QR code. */
@CommandHandler(BeginTwoFactorCommand)
export class BeginTwoFactorHandler implements ICommandHandler<BeginTwoFactorCommand> {
  constructor(private readonly ds: DataSource, private readonly box: SecretBox) {}
  async execute({ principal }: BeginTwoFactorCommand) {
    const userId = requireUser(principal);
    const user = await this.ds.getRepository(UserEntity).findOneByOrFail({ id: userId });
    if (user.totpEnabled) throw new ConflictError('Two-factor authentication is already enabled', 'two-factor-enabled');
    const secret = generateTotpSecret();
    await this.ds.getRepository(UserEntity).update({ id: userId }, { totpSecretEnc: this.box.encrypt(secret, `user:${userId}:totp`) });
    return { secret, otpauthUri: totpUri(user.email, secret) };
  }
}

/** One-time recovery codes, shown once. */
export interface TwoFactorRecoveryCodes {
  recoveryCodes: string[];
}
export class EnableTwoFactorCommand extends Command<TwoFactorRecoveryCodes> {
  constructor(readonly principal: Principal, readonly code: string) {
    super();
  }
}

/** Step 2: a valid code enables 2FA and returns ten recovery codes, shown once. */
@CommandHandler(EnableTwoFactorCommand)
export class EnableTwoFactorHandler implements ICommandHandler<EnableTwoFactorCommand> {
  constructor(private readonly ds: DataSource, private readonly box: SecretBox, private readonly tx: TransactionRunner) {}
  async execute({ principal, code }: EnableTwoFactorCommand) {
    const userId = requireUser(principal);
    const user = await this.ds.getRepository(UserEntity).findOneByOrFail({ id: userId });
    if (user.totpEnabled) throw new ConflictError('Two-factor authentication is already enabled', 'two-factor-enabled');
    if (!user.totpSecretEnc) throw new ConflictError('Start the enrolment first', 'two-factor-not-started');
    if (!checkTotp(code, this.box.decrypt(user.totpSecretEnc, `user:${userId}:totp`))) throw ValidationError.field('/code', 'invalid-code', 'the code is wrong');
    const { codes, hashes } = generateRecoveryCodes();
    await this.tx.run(async (m, stage) => {
      await m.update(UserEntity, { id: userId }, { totpEnabled: true, recoveryCodeHashes: hashes, updatedAt: new Date() });
      await stage({ type: 'user.two-factor-enabled', organizationId: null, actor: actorOf(principal), subject: { type: 'user', id: userId, name: user.email }, payload: {} }, { request: principal.client });
    });
    return { recoveryCodes: codes };
  }
}

export class DisableTwoFactorCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly password: string) {
    super();
  }
}

@CommandHandler(DisableTwoFactorCommand)
export class DisableTwoFactorHandler implements ICommandHandler<DisableTwoFactorCommand> {
  constructor(private readonly ds: DataSource, private readonly tx: TransactionRunner) {}
  async execute({ principal, password }: DisableTwoFactorCommand) {
    const userId = requireUser(principal);
    const user = await this.ds.getRepository(UserEntity).findOneByOrFail({ id: userId });
    if (!(await verifyPassword(user.passwordHash, password))) throw ValidationError.field('/password', 'wrong-password', 'the password is wrong');
    await this.tx.run(async (m, stage) => {
      await m.update(UserEntity, { id: userId }, { totpEnabled: false, totpSecretEnc: null, recoveryCodeHashes: [], updatedAt: new Date() });
      await stage({ type: 'user.two-factor-disabled', organizationId: null, actor: actorOf(principal), subject: { type: 'user', id: userId, name: user.email }, payload: {} }, { request: principal.client });
    });
  }
}
