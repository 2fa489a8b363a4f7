import type { ActorRef, UploadFormat } from '@wharf/contracts';
import type { SourceUploadEntity } from '@wharf/applications';

/** An uploaded source archive as the API shows it (never its content). */
export interface SourceUploadView {
  id: string;
  fileName: string;
  format: UploadFormat;
  size: number;
  sha256: string;
  entries: number;
  uploadedBy: ActorRef;
  uploadedAt: string;
}

export const uploadView = (u: SourceUploadEntity): SourceUploadView => ({
  id: u.id, fileName: u.fileName, format: u.format, size: Number(u.size), sha256: u.sha256 ?? '', entries: u.entries, uploadedBy: u.uploadedBy,
  uploadedAt: (u.completedAt ?? u.createdAt).toISOString(),
});
