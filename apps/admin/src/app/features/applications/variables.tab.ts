import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { VariablesEditorComponent } from '../../shared/ui/variables-editor.component';
import { ApplicationStore } from './application.store';

@Component({
  selector: 'w-app-variables',
  imports: [VariablesEditorComponent],
  template: `
    <p class="w-muted">Changes take effect at the next deployment. Values may reference project and environment variables.</p>
    @if (backend(); as b) {
      <w-variables-editor label="Application variables" [backend]="b" [canEdit]="store.canEditVars()" [canReveal]="store.canReveal()" />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class VariablesTab {
  readonly store = inject(ApplicationStore);
  private readonly api = inject(ResourcesApi);
  private readonly id = computed(() => this.store.app()?.id ?? null);
  readonly backend = computed(() => {
    const id = this.id();
    return id ? this.api.appVariables(id) : null;
  });
}
