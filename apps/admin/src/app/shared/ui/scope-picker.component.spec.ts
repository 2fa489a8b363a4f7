import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { FormControl } from '@angular/forms';
import { ApiKeyScope } from '@wharf/contracts';
import { ScopePickerComponent } from './scope-picker.component';

@Component({
  imports: [ScopePickerComponent],
  template: `<w-scope-picker [control]="control()" />`,
})
class HostComponent {
  readonly control = signal(new FormControl<ApiKeyScope[]>(['read'], { nonNullable: true }));
}

describe('ScopePickerComponent', () => {
  const checked = (el: HTMLElement) =>
    [...el.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].filter((i) => i.checked).map((i) => i.closest('mat-checkbox')!.textContent!.trim());

  it('shows the control value, toggles scopes into it, and follows changes made from outside (OnPush)', async () => {
    const fixture = TestBed.createComponent(HostComponent);
    fixture.autoDetectChanges();
    await fixture.whenStable();
    const el = fixture.nativeElement as HTMLElement;
    const control = fixture.componentInstance.control();
    expect(checked(el)).toEqual(['read']);

    [...el.querySelectorAll<HTMLInputElement>('input[type=checkbox]')].find((i) => i.closest('mat-checkbox')!.textContent!.trim() === 'deploy')!.click();
    await fixture.whenStable();
    expect(control.value).toEqual(['read', 'deploy']);
    expect(control.touched).toBe(true);

    control.setValue(['admin']); // e.g. the form was reset after a key was created
    await fixture.whenStable();
    expect(checked(el)).toEqual(['admin']);

    control.setErrors({ server: 'scopes must not be empty' });
    await fixture.whenStable();
    expect(el.querySelector('[role=alert]')?.textContent).toBe('scopes must not be empty');
  });
});
