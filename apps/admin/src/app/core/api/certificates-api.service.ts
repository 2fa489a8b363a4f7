import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';
import { ApiClient } from './api-client.gen';
import type { components } from './schema';

type Schemas = components['schemas'];

/** A domain's certificate as the API answers it (names, dates, issuer, last attempt; never the key). */
export type Certificate = Schemas['CertificateDto'];
/** Where a domain's host resolves, whether it points here and whether CAA allows the CA. */
export type DnsCheck = Schemas['DnsCheckDto'];
export type UploadCertificateBody = Schemas['UploadCertificateDto'];
/** The organization's ACME settings; the DNS provider's secrets come back as `{ set: true }`. */
export type AcmeSettings = Schemas['AcmeSettingsDto'];
/** PUT /organizations/{id}/acme: a missing field keeps what is stored; `dnsProvider` replaces the whole provider (null removes it). */
export type UpdateAcmeSettingsBody = Schemas['UpdateAcmeSettingsDto'];

/** Wharf's own host behind the edge and its certificate (instance administrators). */
export type InstanceTls = Schemas['InstanceTlsDto'];

/** Certificates of domains, the DNS check, and the organization's ACME settings. */
@Injectable({ providedIn: 'root' })
export class CertificatesApi {
  private readonly api = inject(ApiClient);

  forApplication(applicationId: string): Observable<Certificate[]> {
    return this.api.certificatesList({ path: { applicationId } });
  }
  forOrganization(orgId: string): Observable<Certificate[]> {
    return this.api.certificatesListOrganization({ path: { orgId } });
  }
  dnsCheck(domainId: string): Observable<DnsCheck> {
    return this.api.certificatesDnsCheck({ path: { domainId } });
  }
  renew(domainId: string): Observable<void> {
    return this.api.certificatesRenew({ path: { domainId } }).pipe(map(() => undefined));
  }
  upload(domainId: string, body: UploadCertificateBody): Observable<Certificate> {
    return this.api.certificatesUpload({ path: { domainId }, body });
  }
  remove(domainId: string): Observable<void> {
    return this.api.certificatesRemove({ path: { domainId } }).pipe(map(() => undefined));
  }
  acme(orgId: string): Observable<AcmeSettings> {
    return this.api.certificatesAcme({ path: { orgId } });
  }
  setAcme(orgId: string, body: UpdateAcmeSettingsBody): Observable<AcmeSettings> {
    return this.api.certificatesSetAcme({ path: { orgId }, body });
  }
  instanceTls(): Observable<InstanceTls> {
    return this.api.instanceTlsGet();
  }
  renewInstanceTls(): Observable<void> {
    return this.api.instanceTlsRenew().pipe(map(() => undefined));
  }
}
