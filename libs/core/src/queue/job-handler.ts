import { SetMetadata } from '@nestjs/common';
import type { JobName } from '@wharf/contracts';

export const JOB_HANDLER = 'wharf:job-handler';

/** Marks a provider method as the one handler of a job name. The worker finds these at startup. */
export const JobHandler = (name: JobName): MethodDecorator => SetMetadata(JOB_HANDLER, name);
