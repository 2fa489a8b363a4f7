import { Module } from '@nestjs/common';
import { AccessTokenService } from './services/access-tokens.service';
import { SessionService } from './services/sessions.service';

/** Users and their credentials: passwords, sessions (rotating refresh tokens), access tokens, TOTP. */
@Module({
  providers: [AccessTokenService, SessionService],
  exports: [AccessTokenService, SessionService],
})
export class IdentityModule {}
