import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatMenuModule } from '@angular/material/menu';
import { MatSelect, MatSelectModule } from '@angular/material/select';
import { MatToolbarModule } from '@angular/material/toolbar';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { AuthService } from '../../core/auth/auth.service';
import { OrgContext } from '../../core/org/org-context.service';
import { LiveToasts } from '../../core/live/live-events';
import { ThemeService } from '../../core/theme/theme.service';
import { BreadcrumbsComponent } from '../../shared/ui/breadcrumbs.component';

const NEW_ORGANIZATION = '__new__';

/**
 * Toolbar (organization switcher with “New organization…”, navigation, theme, sign-out) around every signed-in screen,
 * with a skip link, header/nav/main landmarks and the breadcrumb trail; at phone width the toolbar collapses into a menu.
 */
@Component({
  selector: 'w-shell',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, MatToolbarModule, MatButtonModule, MatSelectModule, MatMenuModule, BreadcrumbsComponent],
  templateUrl: './shell.component.html',
  styleUrl: './shell.component.scss',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ShellComponent {
  private readonly auth = inject(AuthService);
  private readonly abilities = inject(AbilitiesService);
  private readonly router = inject(Router);
  readonly orgs = inject(OrgContext);
  readonly theme = inject(ThemeService);

  constructor() {
    // Toasts for the current organization's finished deployments, from its live event stream.
    inject(LiveToasts).start();
  }
  readonly user = this.auth.user;
  readonly orgId = this.orgs.currentId;
  readonly themeLabel = computed(() => ({ system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' })[this.theme.choice()]);

  /** The switcher's last entry: opens the create page instead of switching. */
  readonly newOrganization = NEW_ORGANIZATION;

  switchTo(id: string, select: MatSelect): void {
    if (id === NEW_ORGANIZATION) {
      select.value = this.orgId();
      void this.router.navigateByUrl('/organizations/new');
      return;
    }
    const current = this.orgId();
    const url = this.router.url;
    const next = current && url.startsWith(`/orgs/${current}`) ? url.replace(`/orgs/${current}`, `/orgs/${id}`) : `/orgs/${id}`;
    void this.router.navigateByUrl(next);
  }

  /** The skip link moves the focus into <main> (a plain #main would be a router navigation). */
  skipToContent(event: Event, main: { focus(): void }): void {
    event.preventDefault();
    main.focus();
  }

  async signOut(): Promise<void> {
    try {
      await this.auth.logout();
    } finally {
      this.abilities.clear();
      this.orgs.clear();
      await this.router.navigate(['/login']);
    }
  }
}
