// The one DOM shortcut every screen module shares.
export const $ = (id) => document.getElementById(id);
