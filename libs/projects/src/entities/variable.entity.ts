import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A variable of a project (environmentId null: shared by every environment) or of one environment.
 * Plain values live in `value`; secret values only in `valueEncrypted` (SecretBox, aad = variableAad(id, key)).
 */
@Entity('variables')
export class VariableEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId: string;
  @Column({ name: 'environment_id', type: 'uuid', nullable: true }) environmentId: string | null;
  @Column('text') key: string;
  @Column({ type: 'text', nullable: true }) value: string | null;
  @Column({ name: 'value_encrypted', type: 'text', nullable: true }) valueEncrypted: string | null;
  @Column({ type: 'boolean', default: false }) secret: boolean;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}

/** Binds a secret's ciphertext to its row and key, so it cannot be copied to another variable. */
export const variableAad = (id: string, key: string): string => `variable:${id}:${key}`;
