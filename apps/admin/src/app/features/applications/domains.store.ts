import { inject, Injectable } from '@angular/core';
import { Domain, DomainsApi } from '../../core/api/domains-api.service';
import { ApplicationListStore } from './application-list-store';

/**
 * The domains of the application the screen shows (provided by the application layout next to ApplicationStore): the
 * header's Open links and the Domains tab read the same list, reloaded after a change made here and on live `domain.*`
 * events about the application.
 */
@Injectable()
export class DomainsStore extends ApplicationListStore<Domain> {
  private readonly api = inject(DomainsApi);
  protected readonly events = /^domain\./;
  readonly domains = this.items;
  protected fetch(applicationId: string) {
    return this.api.list(applicationId);
  }
}
