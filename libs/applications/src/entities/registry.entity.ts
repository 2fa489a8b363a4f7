import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Organization-level container registry credentials (password encrypted at rest). */
@Entity('registries')
export class RegistryEntity {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column('text') name: string;
  @Column('text') host: string;
  @Column('text') username: string;
  @Column({ name: 'password_enc', type: 'text' }) passwordEnc: string;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}
