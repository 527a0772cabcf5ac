/**
 * The browser globals the dashboard uses, typed here. The project's compiler options describe
 * Bun (bun-types), and adding the DOM library to them would change the types of every file that
 * uses streams; so the dashboard declares the small part of the DOM it needs, and takes the
 * objects from `globalThis` when it runs in the page.
 */

export interface HTMLElement {
  textContent: string | null;
  hidden: boolean;
  className: string;
  title: string;
  readonly isConnected: boolean;
  readonly parentElement: HTMLElement | null;
  readonly clientWidth: number;
  readonly classList: { toggle(name: string, force?: boolean): boolean };
  readonly dataset: Record<string, string | undefined>;
  readonly style: { left: string; width: string };
  setAttribute(name: string, value: string): void;
  append(...nodes: (HTMLElement | string)[]): void;
  replaceChildren(...nodes: (HTMLElement | string)[]): void;
  addEventListener(type: string, listener: () => void): void;
  querySelectorAll(selector: string): Iterable<HTMLElement> & ArrayLike<HTMLElement>;
}

export interface HTMLInputElement extends HTMLElement {
  value: string;
}

export interface HTMLTableElement extends HTMLElement {
  readonly tBodies: ArrayLike<{ readonly rows: ArrayLike<HTMLElement> }>;
}

/** Tags with a more specific type than `HTMLElement`. */
export interface TagTypes {
  input: HTMLInputElement;
  select: HTMLInputElement;
  table: HTMLTableElement;
}

export interface Document {
  createElement(tag: string): HTMLElement;
  getElementById(id: string): HTMLElement | null;
  querySelectorAll(selector: string): Iterable<HTMLElement>;
  readonly body: HTMLElement;
  title: string;
}

export interface Path2DLike {
  rect(x: number, y: number, width: number, height: number): void;
}

interface BrowserGlobals {
  document: Document;
  location: { hash: string };
  addEventListener(type: string, listener: () => void): void;
  Path2D: new () => Path2DLike;
}

const browser = globalThis as unknown as BrowserGlobals;

export const document: Document = browser.document;
export const location = browser.location;
export const onWindow = (type: string, listener: () => void) => browser.addEventListener(type, listener);
export const newPath = (): Path2DLike => new browser.Path2D();
