import { ApiProperty } from '@nestjs/swagger';

export class TeardownRemovedDto {
  @ApiProperty({ type: [String], description: 'Swarm services removed' }) services: string[];
  @ApiProperty({ type: [String], description: 'Overlay networks removed (environment and organization teardowns)' }) networks: string[];
  @ApiProperty({ type: [String], description: 'Named volumes removed (only when the deletion asked for it)' }) volumes: string[];
}

/** The engine teardown of a deleted project, environment or organization: its Swarm objects being removed. */
export class TeardownDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) organizationId: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: String, description: 'The project of a project or environment teardown' }) projectId: string | null;
  @ApiProperty({ enum: ['organization', 'project', 'environment'], description: 'What was deleted' }) scope: 'organization' | 'project' | 'environment';
  @ApiProperty({ format: 'uuid', description: 'The id of what was deleted' }) subjectId: string;
  @ApiProperty({ description: 'Its name when it was deleted' }) subjectName: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed'], description: 'queued (again, with the last error, while a failed attempt waits for its retry), running, succeeded, failed (after the last attempt)' })
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  @ApiProperty({ description: 'The deletion asked to remove named volumes too' }) removeVolumes: boolean;
  @ApiProperty({ type: TeardownRemovedDto }) removed: TeardownRemovedDto;
  @ApiProperty({ description: 'Attempts started so far' }) attempts: number;
  @ApiProperty({ nullable: true, type: String, description: 'Why the last attempt failed (at most 1000 characters)' }) error: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class TeardownListDto {
  @ApiProperty({ type: [TeardownDto] }) items: TeardownDto[];
}
