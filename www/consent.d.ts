/**
 * The consent banner's public JavaScript API: `window.consent`, set up by `consent.js`.
 *
 * Calls made before the banner is ready are queued and run in order once it is; until then the
 * queries answer as if nothing were granted. See docs/contract.md for the config and the DOM.
 *
 * @example
 * await window.consent.ready;
 * if (consent.accepted('analytics')) startAnalytics();
 * document.addEventListener('consent:change', (e) => {
 *   if (e.detail.changed.includes('marketing') && !consent.accepted('marketing')) stopPixels();
 * });
 */

/** A category id from the site's config, e.g. "essential", "analytics", "marketing". */
export type Category = string;

export interface ConsentApi {
  /**
   * Resolves once the banner has started. It never settles when the config is invalid or the
   * banner cannot load (blocked, offline): then the queries keep answering "nothing granted".
   */
  readonly ready: Promise<void>;
  /** Whether `category` is granted now. Required categories are always granted. */
  accepted(category: Category): boolean;
  /** Every granted category, required ones included. */
  acceptedCategories(): Category[];
  /** Grants every category. Reported with surface "api". */
  acceptAll(): void;
  /** Refuses every optional category. */
  rejectAll(): void;
  /** Grants exactly these optional categories; the others are refused. Anything but an array of
   * this site's category names changes nothing and warns in the console. */
  accept(categories: Category[]): void;
  /** Shows the first layer. */
  show(): void;
  /** Opens the preferences dialog. */
  showPreferences(): void;
  /** Forgets the stored choice, withdraws optional categories (their cookies are deleted) and shows the banner. */
  reset(): void;
  /** The visitor's pseudonymous consent id (32 hex digits) once a choice exists, else null. */
  consentId(): string | null;
}

/** `detail` of the `consent:ready` event, dispatched on `document` once per page. */
export interface ConsentReadyDetail {
  categories: Category[];
  consentId: string | null;
  /** A current decision covers every category of this site (no banner shown). */
  decided: boolean;
}

/** `detail` of the `consent:change` event, dispatched on `document` after every decision (the
 * visitor's or the API's, including one that changes nothing) and whenever a category's state
 * changes otherwise (a decision in another tab). */
export interface ConsentChangeDetail {
  categories: Category[];
  /** Categories whose state changed; empty for a decision that changed none (Reject all on a
   * first visit). What already ran cannot be unrun: stop it yourself. */
  changed: Category[];
  consentId: string | null;
}

declare global {
  interface Window {
    consent: ConsentApi;
  }
  interface DocumentEventMap {
    'consent:ready': CustomEvent<ConsentReadyDetail>;
    'consent:change': CustomEvent<ConsentChangeDetail>;
  }
}
