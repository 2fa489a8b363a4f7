import { ChangeDetectionStrategy, Component, effect, inject, signal, untracked } from '@angular/core';
import { FormArray, FormGroup, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSnackBar } from '@angular/material/snack-bar';
import { firstValueFrom } from 'rxjs';
import { Application } from '../../core/api/api-types';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { TrailNames } from '../../shared/ui/breadcrumbs.component';
import { EffectiveOrderComponent } from '../deploy-state/effective-order.component';
import { ApplicationStore } from './application.store';
import { argvToLines, linesToArgv, MountRow, mountsToSpec, numOrNull, PortRow, portsToSpec } from './spec-form';

/** The spec as typed reactive forms: image, command, replicas, resources, health check, ports, volumes, update policy. */
@Component({
  selector: 'w-app-settings',
  imports: [ReactiveFormsModule, MatButtonModule, MatCheckboxModule, MatFormFieldModule, MatInputModule, MatSelectModule, ProblemAlertComponent, EffectiveOrderComponent],
  template: `
    <w-problem [problem]="problem()" />
    <form [formGroup]="form" (ngSubmit)="save()" novalidate class="w-form">
      <fieldset [disabled]="!store.canUpdate()">
        <legend>General</legend>
        <div class="w-row">
          <mat-form-field class="grow"><mat-label>Name</mat-label><input matInput formControlName="name" /><mat-error>{{ fieldError(form.controls.name, 'Name') }}</mat-error></mat-form-field>
          <mat-form-field class="grow"><mat-label>Image</mat-label><input matInput formControlName="image" /><mat-error>{{ fieldError(form.controls.image, 'Image') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Replicas</mat-label><input matInput type="number" formControlName="replicas" /><mat-error>{{ fieldError(form.controls.replicas, 'Replicas') }}</mat-error></mat-form-field>
        </div>
        <mat-form-field class="full"><mat-label>Command (one argument per line)</mat-label><textarea matInput formControlName="command" rows="3"></textarea></mat-form-field>
      </fieldset>
      <fieldset [disabled]="!store.canUpdate()" formGroupName="resources">
        <legend>Resources (empty = no limit)</legend>
        <div class="w-row">
          <mat-form-field><mat-label>CPU limit</mat-label><input matInput type="number" step="0.1" formControlName="cpuLimit" /></mat-form-field>
          <mat-form-field><mat-label>Memory limit (MB)</mat-label><input matInput type="number" formControlName="memoryLimitMb" /></mat-form-field>
          <mat-form-field><mat-label>CPU reservation</mat-label><input matInput type="number" step="0.1" formControlName="cpuReservation" /></mat-form-field>
          <mat-form-field><mat-label>Memory reservation (MB)</mat-label><input matInput type="number" formControlName="memoryReservationMb" /></mat-form-field>
        </div>
      </fieldset>
      <fieldset [disabled]="!store.canUpdate()" formGroupName="health">
        <legend>Health check</legend>
        <mat-checkbox formControlName="enabled">Check health</mat-checkbox>
        <mat-form-field class="full"><mat-label>Health check command (one argument per line, starting with CMD)</mat-label><textarea matInput formControlName="test" rows="2"></textarea></mat-form-field>
        <div class="w-row">
          <mat-form-field><mat-label>Interval (ms)</mat-label><input matInput type="number" formControlName="intervalMs" /></mat-form-field>
          <mat-form-field><mat-label>Timeout (ms)</mat-label><input matInput type="number" formControlName="timeoutMs" /></mat-form-field>
          <mat-form-field><mat-label>Retries</mat-label><input matInput type="number" formControlName="retries" /></mat-form-field>
          <mat-form-field><mat-label>Start period (ms)</mat-label><input matInput type="number" formControlName="startPeriodMs" /></mat-form-field>
        </div>
      </fieldset>
      <fieldset [disabled]="!store.canUpdate()">
        <legend>Ports</legend>
        @for (p of ports.controls; track $index; let i = $index) {
          <div class="w-row" [formGroup]="p">
            <mat-form-field><mat-label>Container port {{ i + 1 }}</mat-label><input matInput type="number" formControlName="target" /><mat-error>{{ fieldError(p.get('target'), 'Container port') }}</mat-error></mat-form-field>
            <mat-form-field><mat-label>Published port {{ i + 1 }}</mat-label><input matInput type="number" formControlName="published" /><mat-error>{{ fieldError(p.get('published'), 'Published port') }}</mat-error></mat-form-field>
            <mat-form-field><mat-label>Protocol {{ i + 1 }}</mat-label><mat-select formControlName="protocol"><mat-option value="tcp">tcp</mat-option><mat-option value="udp">udp</mat-option></mat-select></mat-form-field>
            <mat-form-field><mat-label>Mode {{ i + 1 }}</mat-label><mat-select formControlName="mode"><mat-option value="host">host</mat-option><mat-option value="ingress">ingress</mat-option></mat-select></mat-form-field>
            <button mat-button type="button" (click)="ports.removeAt(i)">Remove port {{ i + 1 }}</button>
          </div>
        }
        <button mat-stroked-button type="button" (click)="addPort()">Add port</button>
      </fieldset>
      <fieldset [disabled]="!store.canUpdate()">
        <legend>Volumes</legend>
        @for (m of mounts.controls; track $index; let i = $index) {
          <div class="w-row" [formGroup]="m">
            <mat-form-field><mat-label>Type {{ i + 1 }}</mat-label><mat-select formControlName="type"><mat-option value="volume">volume</mat-option><mat-option value="bind">bind</mat-option></mat-select></mat-form-field>
            <mat-form-field><mat-label>Source {{ i + 1 }}</mat-label><input matInput formControlName="source" /></mat-form-field>
            <mat-form-field><mat-label>Mount path {{ i + 1 }}</mat-label><input matInput formControlName="target" /></mat-form-field>
            <mat-checkbox formControlName="readOnly">Read-only</mat-checkbox>
            <button mat-button type="button" (click)="mounts.removeAt(i)">Remove volume {{ i + 1 }}</button>
          </div>
        }
        <button mat-stroked-button type="button" (click)="addMount()">Add volume</button>
      </fieldset>
      <fieldset [disabled]="!store.canUpdate()" formGroupName="update">
        <legend>Update policy</legend>
        <div class="w-row">
          <mat-form-field><mat-label>Parallelism</mat-label><input matInput type="number" formControlName="parallelism" /></mat-form-field>
          <mat-form-field><mat-label>Order</mat-label><mat-select formControlName="order"><mat-option value="start-first">start-first</mat-option><mat-option value="stop-first">stop-first</mat-option></mat-select></mat-form-field>
          <mat-form-field><mat-label>On failure</mat-label><mat-select formControlName="failureAction"><mat-option value="rollback">rollback</mat-option><mat-option value="pause">pause</mat-option><mat-option value="continue">continue</mat-option></mat-select></mat-form-field>
          <mat-form-field><mat-label>Monitor (ms)</mat-label><input matInput type="number" formControlName="monitorMs" /></mat-form-field>
        </div>
        <w-effective-order [order]="store.app()?.updateOrder" />
      </fieldset>
      @if (store.canUpdate()) {
        <div class="w-row"><button mat-flat-button type="submit" [disabled]="busy()">Save settings</button><span class="w-muted">Takes effect at the next deployment.</span></div>
      }
    </form>
  `,
  styles: `fieldset { border: 1px solid var(--mat-sys-outline-variant); border-radius: 8px; margin: 0 0 12px; padding: 8px 16px; } legend { padding: 0 4px; } .full, .grow { flex: 1 1 300px; width: 100%; } mat-form-field { width: 170px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SettingsTab {
  readonly store = inject(ApplicationStore);
  private readonly api = inject(ResourcesApi);
  private readonly snack = inject(MatSnackBar);
  private readonly trail = inject(TrailNames);
  private readonly fb = inject(NonNullableFormBuilder);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly fieldError = fieldError;
  readonly ports = this.fb.array<FormGroup>([]);
  readonly mounts = this.fb.array<FormGroup>([]);
  readonly form = this.fb.group({
    name: ['', Validators.required],
    image: ['', Validators.required],
    replicas: [1, [Validators.required, Validators.min(0), Validators.max(100)]],
    command: [''],
    resources: this.fb.group({ cpuLimit: [null as number | null], memoryLimitMb: [null as number | null], cpuReservation: [null as number | null], memoryReservationMb: [null as number | null] }),
    health: this.fb.group({ enabled: [false], test: [''], intervalMs: [10000], timeoutMs: [5000], retries: [3], startPeriodMs: [0] }),
    ports: this.ports as FormArray<FormGroup>,
    mounts: this.mounts as FormArray<FormGroup>,
    update: this.fb.group({ parallelism: [1], order: ['start-first' as 'start-first' | 'stop-first'], failureAction: ['rollback' as 'rollback' | 'pause' | 'continue'], monitorMs: [5000] }),
  });
  private loadedVersion: number | null = null;

  constructor() {
    effect(() => {
      const a = this.store.app();
      if (a && a.version !== this.loadedVersion) untracked(() => this.fill(a));
    });
  }

  private portGroup(p: Partial<PortRow> = {}): FormGroup {
    return this.fb.group({ target: [p.target ?? null], published: [p.published ?? null], protocol: [p.protocol ?? 'tcp'], mode: [p.mode ?? 'host'] });
  }
  private mountGroup(m: Partial<MountRow> = {}): FormGroup {
    return this.fb.group({ type: [m.type ?? 'volume'], source: [m.source ?? ''], target: [m.target ?? ''], readOnly: [m.readOnly ?? false] });
  }
  addPort(): void {
    this.ports.push(this.portGroup());
  }
  addMount(): void {
    this.mounts.push(this.mountGroup());
  }

  fill(a: Application): void {
    this.loadedVersion = a.version;
    const s = a.spec;
    this.ports.clear();
    for (const p of s.ports ?? []) this.ports.push(this.portGroup({ target: p.target, published: p.published ?? null, protocol: p.protocol, mode: p.mode }));
    this.mounts.clear();
    for (const m of s.mounts ?? []) this.mounts.push(this.mountGroup(m as MountRow));
    this.form.patchValue({
      name: a.name,
      image: s.image,
      replicas: s.replicas ?? 1,
      command: argvToLines(s.command),
      resources: { cpuLimit: s.resources?.cpuLimit ?? null, memoryLimitMb: s.resources?.memoryLimitMb ?? null, cpuReservation: s.resources?.cpuReservation ?? null, memoryReservationMb: s.resources?.memoryReservationMb ?? null },
      health: s.healthcheck ? { enabled: true, test: argvToLines(s.healthcheck.test), intervalMs: s.healthcheck.intervalMs, timeoutMs: s.healthcheck.timeoutMs, retries: s.healthcheck.retries, startPeriodMs: s.healthcheck.startPeriodMs } : { enabled: false },
      update: s.update ? { parallelism: s.update.parallelism, order: s.update.order, failureAction: s.update.failureAction, monitorMs: s.update.monitorMs } : {},
    });
    this.form.markAsPristine();
  }

  async save(): Promise<void> {
    const a = this.store.app();
    if (!a) return;
    if (this.form.invalid) return this.form.markAllAsTouched();
    const v = this.form.getRawValue();
    const h = v.health;
    const spec = {
      image: v.image,
      replicas: Number(v.replicas),
      command: linesToArgv(v.command),
      resources: { cpuLimit: numOrNull(v.resources.cpuLimit), memoryLimitMb: numOrNull(v.resources.memoryLimitMb), cpuReservation: numOrNull(v.resources.cpuReservation), memoryReservationMb: numOrNull(v.resources.memoryReservationMb) },
      healthcheck: h.enabled ? { test: linesToArgv(h.test) ?? [], intervalMs: Number(h.intervalMs), timeoutMs: Number(h.timeoutMs), retries: Number(h.retries), startPeriodMs: Number(h.startPeriodMs) } : null,
      ports: portsToSpec(v.ports as PortRow[]),
      mounts: mountsToSpec(v.mounts as MountRow[]),
      update: { parallelism: Number(v.update.parallelism), order: v.update.order, failureAction: v.update.failureAction, monitorMs: Number(v.update.monitorMs) },
    };
    this.busy.set(true);
    this.problem.set(null);
    try {
      const updated = await firstValueFrom(this.api.updateApplication(a, { name: v.name, spec }));
      this.store.app.set(updated);
      // The header reads the store; the breadcrumb trail asks for the names again when told of a rename.
      if (updated.name !== a.name) this.trail.changed();
      this.snack.open('Settings saved; deploy to apply them', 'Dismiss', { duration: 4000 });
    } catch (e) {
      const p = toProblem(e);
      for (const err of p.errors ?? []) err.pointer = err.pointer.replace(/^\/spec\/healthcheck/, '/health').replace(/^\/spec/, '');
      this.problem.set(applyProblem(this.form, p));
    } finally {
      this.busy.set(false);
    }
  }
}
