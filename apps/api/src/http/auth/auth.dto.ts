import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsNotEmpty, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';

export class SetupDto {
  @ApiProperty({ description: 'The one-time token Wharf printed to its log at first start' }) @IsString() @Length(10, 200) setupToken: string;
  @ApiProperty({ example: 'owner@example.com' }) @IsEmail() @MaxLength(254) email: string;
  @ApiProperty() @IsString() @Length(1, 200) name: string;
  @ApiProperty({ minLength: 10 }) @IsString() @Length(1, 512) password: string;
  @ApiProperty({ example: 'Acme' }) @IsString() @Length(1, 200) organizationName: string;
}

export class LoginDto {
  @ApiProperty() @IsEmail() @MaxLength(254) email: string;
  @ApiProperty() @IsString() @Length(1, 512) password: string;
  @ApiPropertyOptional({ description: 'TOTP code when two-factor authentication is enabled' }) @IsOptional() @Matches(/^\d{6}$/, { message: 'totpCode must be 6 digits' }) totpCode?: string;
  @ApiPropertyOptional({ description: 'A recovery code instead of the TOTP code' }) @IsOptional() @IsString() @MaxLength(40) recoveryCode?: string;
}

export class RefreshDto {
  @ApiPropertyOptional({ description: 'The refresh token (or the wharf_refresh cookie)' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) refreshToken?: string;
}

export class TokenPairDto {
  @ApiProperty() accessToken: string;
  @ApiProperty() refreshToken: string;
  @ApiProperty({ description: 'Access token lifetime in seconds' }) expiresIn: number;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
  @ApiProperty() sessionId: string;
}

export class SetupResultDto extends TokenPairDto {
  @ApiProperty() organizationId: string;
  @ApiProperty() userId: string;
}

export class SetupStatusDto {
  @ApiProperty({ description: 'true until the first user has been created' }) needed: boolean;
}

export class ProblemDto {
  @ApiProperty() type: string;
  @ApiProperty() title: string;
  @ApiProperty() status: number;
  @ApiProperty() detail: string;
  @ApiProperty() code: string;
  @ApiProperty({ nullable: true, type: String }) requestId: string | null;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object', properties: { pointer: { type: 'string' }, code: { type: 'string' }, detail: { type: 'string' } } } })
  errors?: Array<{ pointer: string; code: string; detail: string }>;
}
