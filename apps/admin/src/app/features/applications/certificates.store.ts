import { computed, inject, Injectable } from '@angular/core';
import { Certificate, CertificatesApi } from '../../core/api/certificates-api.service';
import { ApplicationListStore } from './application-list-store';

/**
 * The certificates of the application's domains (provided by the Domains tab): one request for every row, reloaded
 * after an action taken here and on live `certificate.*` and `domain.*` events about the application (a domain's
 * change may order, replace or drop its certificate).
 */
@Injectable()
export class CertificatesStore extends ApplicationListStore<Certificate> {
  private readonly api = inject(CertificatesApi);
  protected readonly events = /^(certificate|domain)\./;
  readonly certificates = this.items;
  /** The certificate of each domain, by domain id. */
  readonly byDomain = computed(() => new Map((this.certificates() ?? []).map((c) => [c.domainId, c])));
  protected fetch(applicationId: string) {
    return this.api.forApplication(applicationId);
  }
}
