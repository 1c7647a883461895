// Texts of the viewer in French (default) and English, and the language switch.
// Static markup is tagged with data-i18n (text) / data-i18n-aria (aria-label); dynamic
// texts go through t(). A value may be a function of params, for sentences with a slot.
import { $ } from '/src/dom.js';

const STORAGE_KEY = 'acote.lang';
const LANGS = ['fr', 'en'];

const TEXTS = {
  fr: {
    switchTo: 'English',
    switchToLang: 'en',
    codeLabel: 'Code de la session',
    connect: 'Se connecter',
    end: 'Terminer la session',
    newSession: 'Nouvelle session',
    screenLabel: 'Écran de la personne accompagnée',
    site: (p) => `Relais : ${p.site}`,
    codeFormat: 'Le code a 6 chiffres.',
    'enter-code': "Saisissez le code à 6 chiffres affiché sur l'écran de la personne.",
    connecting: 'Connexion au relais…',
    'waiting-resident': 'En attente de la réponse de la personne…',
    residentLang: 'Langue de la personne : ',
    'starting-video': "La personne a accepté. Démarrage de l'image…",
    watching: "Vous voyez l'écran de la personne.",
    refused: "La personne a refusé le partage d'écran.",
    'no-answer': "La personne n'a pas répondu à temps.",
    'invalid-code': 'Code incorrect ou expiré. Vérifiez les 6 chiffres avec la personne.',
    'rate-limited': 'Trop d\'essais. Réessayez dans une minute.',
    'connection-lost': 'Connexion au relais perdue.',
    peerLost: 'La connexion avec la personne a été perdue.',
    reconnecting: "Connexion au relais interrompue. Reconnexion… (l'image reste affichée tant qu'elle arrive)",
    residentReconnecting: "La connexion de la personne est interrompue. Attente de son retour (1 minute au plus)…",
    connectionLostFor: "La connexion n'est pas revenue en 1 minute. La session est terminée.",
    ended: 'La session est terminée.',
    error: (p) => (p.message
      ? `Une erreur est survenue. Message du relais : ${p.message}`
      : 'Une erreur est survenue.'),
    videoFailed: "Une erreur est survenue : l'image n'a pas pu démarrer.",
    versionMismatch: "Une erreur est survenue : ce relais parle une autre version d'Acote.",
    controlBar: 'Aide à distance',
    requestControl: 'Demander la main',
    giveBack: 'Rendre la main',
    point: 'Montrer un endroit',
    typeLabel: 'Texte à taper',
    typeSend: 'Taper le texte',
    keyboardLabel: "Souris et clavier vers l'écran de la personne",
    'mode-watching': 'Vous regardez.',
    'mode-asking': 'Demande envoyée : la personne doit accepter sur son écran…',
    'mode-controlling': 'Vous avez la main : souris et clavier sont transmis.',
    'mode-refused': 'La personne a refusé de vous donner la main.',
    'mode-no-answer': "La personne n'a pas répondu : vous regardez seulement.",
    'mode-taken-back': 'La personne a repris la main.',
    linkDirect: (p) => (p.rtt != null ? `Connexion directe · ${p.rtt} ms` : 'Connexion directe'),
    linkRelay: (p) => (p.rtt != null ? `Via le relais · ${p.rtt} ms` : 'Via le relais'),
    actualSize: 'Taille réelle',
    actualSizeAria: "Taille réelle : un point de l'écran de la personne par point du vôtre, avec défilement",
    fullScreen: 'Plein écran',
    fullScreenAria: 'Plein écran (Échap pour en sortir)',
    lowDataLabel: 'Économie de données',
    lowDataAria: "Économie de données : moins d'images par seconde, texte toujours net",
    dataSent: (p) => `Données utilisées par la personne : ${p.amount}`,
    securityCode: (p) => `Code de sécurité : ${p.code}`,
    securityCodeAria: (p) => `Code de sécurité à lire à la personne : ${p.digits}. S'il diffère du sien, terminez la session.`,
    securityFailed: "Vérification de sécurité échouée : la connexion est peut-être interceptée. Terminez la session et prévenez l'administrateur.",
    kb: (p) => `${p.n} Ko`,
    mb: (p) => `${p.x} Mo`,
    chatToggle: 'Messages',
    chatToggleAria: (p) => (p.n ? `Messages, ${p.n} non lu${p.n > 1 ? 's' : ''}` : 'Messages'),
    chatTitle: 'Messages avec la personne',
    chatLogAria: 'Conversation avec la personne',
    chatEmpty: "Aucun message pour l'instant. Ce que vous écrivez s'affiche dans la fenêtre de la personne. Acote ne garde pas les messages après la session.",
    chatLabel: 'Message à la personne',
    chatSend: 'Envoyer',
    chatKeys: 'Entrée : envoyer. Maj+Entrée : nouvelle ligne.',
    chatWaiting: "Les messages seront possibles dès que la connexion avec la personne sera établie.",
    chatClosed: "La connexion avec la personne est coupée : les messages ne peuvent pas partir pour l'instant.",
    chatEnded: 'La session est terminée : plus aucun message ne peut partir.',
    chatYou: 'Vous',
    chatResident: 'Personne accompagnée',
    chatLeft: (p) => (p.n > 1 ? `Encore ${p.n} caractères` : `Encore ${p.n} caractère`),
    chatOver: (p) => (p.n > 1 ? `${p.n} caractères de trop` : `${p.n} caractère de trop`),
    chatTooLong: (p) => `Message trop long : ${p.n} caractère${p.n > 1 ? 's' : ''} de trop. Raccourcissez-le ou envoyez-le en plusieurs fois.`,
    chatEmptyDraft: "Écrivez un message avant de l'envoyer.",
    chatNotSent: "Message non envoyé : la connexion avec la personne n'est pas ouverte.",
    chatNew: (p) => `Nouveau message de la personne (${p.n} non lu${p.n > 1 ? 's' : ''}).`,
    notInControl: (p) => `Vous n'avez pas la main : ${p.count} action(s) ignorée(s).`,
    inputRefused: (p) => `${p.count} action(s) refusée(s) par l'ordinateur de la personne.`,
    signInTitle: 'Connexion des intervenants',
    loginLabel: 'Identifiant',
    passwordLabel: 'Mot de passe',
    signIn: "S'identifier",
    signOut: 'Se déconnecter',
    signInPrompt: 'Identifiez-vous pour aider une personne.',
    signingIn: 'Vérification…',
    signedInAs: (p) => `${p.name} (${p.site})`,
    badCredentials: 'Identifiant ou mot de passe incorrect.',
    locked: (p) => `Trop d'essais. Réessayez dans ${waitText('fr', p.secs)}.`,
    accountDisabled: 'Ce compte est désactivé. Adressez-vous à votre administrateur.',
    sessionExpired: 'Votre session a expiré. Identifiez-vous à nouveau.',
    signedOut: 'Vous êtes déconnecté.',
    auditDown: "Le relais ne peut pas écrire son journal : rien n'est possible pour l'instant. Prévenez l'administrateur.",
    fieldsMissing: "Saisissez l'identifiant et le mot de passe.",
    procedureLabel: 'Démarche (facultatif)',
    procedureHint: 'Par exemple « Renouvellement CAF ». Gardé dans le journal, sans contenu.',
    relayOnlyLabel: 'Toujours passer par le relais',
    relayOnlyHint: "Pour les réseaux qui bloquent les connexions directes. L'image reste chiffrée de bout en bout.",
    rateLimitedFor: (p) => `Trop de codes erronés. Réessayez dans ${waitText('fr', p.secs)}.`,
    setPasswordTitle: 'Choisir votre mot de passe',
    newPassword: 'Nouveau mot de passe (10 caractères au moins)',
    confirmPassword: 'Confirmez le mot de passe',
    savePassword: 'Enregistrer',
    passwordsDiffer: 'Les deux mots de passe sont différents.',
    password_too_short: 'Le mot de passe doit avoir au moins 10 caractères.',
    password_too_long: 'Le mot de passe est trop long.',
    password_too_common: 'Ce mot de passe est trop courant. Choisissez-en un autre, par exemple quatre mots au hasard.',
    link_invalid: "Ce lien n'est plus valable (déjà utilisé ou plus de 24 h). Demandez-en un nouveau à votre administrateur.",
    passwordSaved: 'Mot de passe enregistré. Vous pouvez vous identifier.',
    goToSignIn: "Aller à la page d'identification",
    passkeysTitle: "Clés d'accès",
    createPasskey: "Créer ma clé d'accès",
    passkeyNeeded: "Mot de passe enregistré. Ce relais demande aussi une clé d'accès : créez-la maintenant sur cet appareil (empreinte, visage ou code de l'appareil).",
    passkeyCreated: "Clé d'accès créée. Vous pouvez vous identifier avec votre mot de passe et cette clé.",
    passkeysHint: "Avec une clé d'accès (empreinte, visage ou code de cet appareil), votre mot de passe seul ne suffit plus pour entrer dans votre compte.",
    passkeyListAria: "Vos clés d'accès",
    addPasskey: "Ajouter une clé d'accès",
    noPasskey: "Aucune clé d'accès pour l'instant.",
    passkeyItem: (p) => (p.used ? `Clé ajoutée le ${p.added}, utilisée le ${p.used}` : `Clé ajoutée le ${p.added}`),
    removePasskey: 'Retirer',
    removePasskeyAria: (p) => `Retirer la clé d'accès ajoutée le ${p.added}`,
    passkeyAdded: "Clé d'accès ajoutée. Elle vous sera demandée après votre mot de passe.",
    passkeyRemoved: "Clé d'accès retirée.",
    passkeyAddFailed: "La clé d'accès n'a pas pu être ajoutée.",
    passkeyCancelled: "La clé d'accès n'a pas répondu (annulée ou trop lente).",
    passkeyUnsupported: "Ce navigateur ne sait pas utiliser les clés d'accès.",
    passkeyFailed: "La clé d'accès n'a pas été reconnue. Recommencez l'identification.",
    passkeyRequired: "Ce relais exige une clé d'accès et votre compte n'en a pas. Demandez à votre administrateur un lien pour la créer.",
    passkeyUnavailable: "Ce relais ne peut pas vérifier les clés d'accès. Prévenez l'administrateur.",
    passkeyLast: "C'est votre seule clé d'accès et ce relais en exige une : ajoutez-en une autre avant de la retirer.",
  },
  en: {
    switchTo: 'Français',
    switchToLang: 'fr',
    codeLabel: 'Session code',
    connect: 'Connect',
    end: 'End session',
    newSession: 'New session',
    screenLabel: "Resident's screen",
    site: (p) => `Relay: ${p.site}`,
    codeFormat: 'The code has 6 digits.',
    'enter-code': "Enter the 6-digit code shown on the resident's screen.",
    connecting: 'Connecting to the relay…',
    'waiting-resident': 'Waiting for the resident to answer…',
    residentLang: "Resident's language: ",
    'starting-video': 'The resident said yes. Starting the picture…',
    watching: "You are seeing the resident's screen.",
    refused: 'The resident said no.',
    'no-answer': 'The resident did not answer in time.',
    'invalid-code': 'Wrong or expired code. Check the 6 digits with the resident.',
    'rate-limited': 'Too many attempts. Try again in a minute.',
    'connection-lost': 'Connection to the relay lost.',
    peerLost: 'The connection to the resident was lost.',
    reconnecting: 'The connection to the relay was interrupted. Reconnecting… (the picture stays while it still arrives)',
    residentReconnecting: "The resident's connection was interrupted. Waiting for it to come back (a minute at most)…",
    connectionLostFor: 'The connection did not come back within a minute. The session has ended.',
    ended: 'The session has ended.',
    error: (p) => (p.message
      ? `Something went wrong. Message from the relay: ${p.message}`
      : 'Something went wrong.'),
    videoFailed: 'Something went wrong: the picture could not start.',
    versionMismatch: 'Something went wrong: this relay speaks another version of Acote.',
    controlBar: 'Remote help',
    requestControl: 'Request control',
    giveBack: 'Give back control',
    point: 'Point here',
    typeLabel: 'Text to type',
    typeSend: 'Type text',
    keyboardLabel: "Mouse and keyboard to the resident's screen",
    'mode-watching': 'You are watching.',
    'mode-asking': 'Request sent: the resident must agree on their screen…',
    'mode-controlling': 'You are in control: mouse and keyboard are sent.',
    'mode-refused': 'The resident said no to control.',
    'mode-no-answer': 'The resident did not answer: you are only watching.',
    'mode-taken-back': 'The resident took control back.',
    linkDirect: (p) => (p.rtt != null ? `Direct connection · ${p.rtt} ms` : 'Direct connection'),
    linkRelay: (p) => (p.rtt != null ? `Through the relay · ${p.rtt} ms` : 'Through the relay'),
    actualSize: 'Actual size',
    actualSizeAria: "Actual size: one pixel of the person's screen per pixel of yours, with scrolling",
    fullScreen: 'Full screen',
    fullScreenAria: 'Full screen (Escape leaves it)',
    lowDataLabel: 'Low data',
    lowDataAria: 'Low data: fewer frames per second, text stays sharp',
    dataSent: (p) => `Data used by the resident: ${p.amount}`,
    securityCode: (p) => `Security code: ${p.code}`,
    securityCodeAria: (p) => `Security code to read to the resident: ${p.digits}. If theirs is different, end the session.`,
    securityFailed: 'Security check failed: the connection may be intercepted. End the session and tell your administrator.',
    kb: (p) => `${p.n} KB`,
    mb: (p) => `${p.x} MB`,
    chatToggle: 'Messages',
    chatToggleAria: (p) => (p.n ? `Messages, ${p.n} unread` : 'Messages'),
    chatTitle: 'Messages with the resident',
    chatLogAria: 'Conversation with the resident',
    chatEmpty: "No messages yet. What you write appears in the resident's window. Acote does not keep messages after the session.",
    chatLabel: 'Message to the resident',
    chatSend: 'Send',
    chatKeys: 'Enter sends, Shift+Enter starts a new line.',
    chatWaiting: 'Messages can be sent once the connection with the resident is set up.',
    chatClosed: 'The connection with the resident is cut: messages cannot be sent for now.',
    chatEnded: 'The session has ended: no more messages can be sent.',
    chatYou: 'You',
    chatResident: 'Resident',
    chatLeft: (p) => (p.n === 1 ? '1 character left' : `${p.n} characters left`),
    chatOver: (p) => (p.n === 1 ? '1 character too many' : `${p.n} characters too many`),
    chatTooLong: (p) => `Message too long: ${p.n === 1 ? '1 character' : `${p.n} characters`} too many. Shorten it or send it in several parts.`,
    chatEmptyDraft: 'Write a message before sending it.',
    chatNotSent: 'Not sent: the connection with the resident is not open.',
    chatNew: (p) => `New message from the resident (${p.n} unread).`,
    notInControl: (p) => `You are not in control: ${p.count} action(s) ignored.`,
    inputRefused: (p) => `${p.count} action(s) refused by the resident's computer.`,
    signInTitle: 'Caseworker sign-in',
    loginLabel: 'Login',
    passwordLabel: 'Password',
    signIn: 'Sign in',
    signOut: 'Sign out',
    signInPrompt: 'Sign in to help someone.',
    signingIn: 'Checking…',
    signedInAs: (p) => `${p.name} (${p.site})`,
    badCredentials: 'Wrong login or password.',
    locked: (p) => `Too many attempts. Try again in ${waitText('en', p.secs)}.`,
    accountDisabled: 'This account is disabled. Ask your administrator.',
    sessionExpired: 'Your session has expired. Please sign in again.',
    signedOut: 'You are signed out.',
    auditDown: 'The relay cannot write its audit log, so nothing can start for now. Tell the administrator.',
    fieldsMissing: 'Enter your login and password.',
    procedureLabel: 'Procedure (optional)',
    procedureHint: 'For instance "CAF renewal". Kept in the audit log, without content.',
    relayOnlyLabel: 'Always go through the relay',
    relayOnlyHint: 'For networks that block direct connections. The picture stays encrypted end to end.',
    rateLimitedFor: (p) => `Too many wrong codes. Try again in ${waitText('en', p.secs)}.`,
    setPasswordTitle: 'Choose your password',
    newPassword: 'New password (at least 10 characters)',
    confirmPassword: 'Confirm the password',
    savePassword: 'Save',
    passwordsDiffer: 'The two passwords differ.',
    password_too_short: 'The password must have at least 10 characters.',
    password_too_long: 'The password is too long.',
    password_too_common: 'This password is too common. Choose another, for instance four random words.',
    link_invalid: 'This link no longer works (already used, or older than 24 h). Ask your administrator for a new one.',
    passwordSaved: 'Password saved. You can sign in now.',
    goToSignIn: 'Go to the sign-in page',
    passkeysTitle: 'Passkeys',
    createPasskey: 'Create my passkey',
    passkeyNeeded: 'Password saved. This relay also requires a passkey: create it now on this device (fingerprint, face or the device\'s PIN).',
    passkeyCreated: 'Passkey created. You can sign in with your password and this passkey.',
    passkeysHint: 'With a passkey (fingerprint, face or this device\'s PIN), your password alone no longer gets into your account.',
    passkeyListAria: 'Your passkeys',
    addPasskey: 'Add a passkey',
    noPasskey: 'No passkey yet.',
    passkeyItem: (p) => (p.used ? `Passkey added on ${p.added}, last used on ${p.used}` : `Passkey added on ${p.added}`),
    removePasskey: 'Remove',
    removePasskeyAria: (p) => `Remove the passkey added on ${p.added}`,
    passkeyAdded: 'Passkey added. It will be asked for after your password.',
    passkeyRemoved: 'Passkey removed.',
    passkeyAddFailed: 'The passkey could not be added.',
    passkeyCancelled: 'The passkey did not answer (cancelled or too slow).',
    passkeyUnsupported: 'This browser cannot use passkeys.',
    passkeyFailed: 'The passkey was not recognised. Please sign in again.',
    passkeyRequired: 'This relay requires a passkey and your account has none. Ask your administrator for a link to create one.',
    passkeyUnavailable: 'This relay cannot check passkeys. Tell the administrator.',
    passkeyLast: 'This is your only passkey and this relay requires one: add another before removing it.',
  },
};

// "45 seconds" / "3 minutes": how long a lock-out lasts, rounded up.
function waitText(l, secs) {
  const s = Math.max(1, Math.ceil(Number(secs) || 0));
  if (s < 60) return l === 'fr' ? `${s} s` : `${s} s`;
  const m = Math.ceil(s / 60);
  if (l === 'fr') return m === 1 ? '1 minute' : `${m} minutes`;
  return m === 1 ? '1 minute' : `${m} minutes`;
}

let lang = loadLang();
const listeners = [];

// localStorage can throw (privacy modes, storage disabled): fall back to French.
function loadLang() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch { /* keep the default */ }
  return 'fr';
}

export function getLang() {
  return lang;
}

export function t(key, params = {}) {
  const value = TEXTS[lang][key] ?? TEXTS.fr[key] ?? key;
  return typeof value === 'function' ? value(params) : value;
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch { /* the choice just won't survive a reload */ }
  applyStatic();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.push(fn);
}

// Rewrites every tagged element, the <html lang> and the switch button.
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAria));
  }
  const button = $('lang');
  if (button) {
    button.textContent = t('switchTo');
    button.setAttribute('aria-label', t('switchTo'));
    // The button's word is in the other language: say so for screen readers.
    button.lang = t('switchToLang');
  }
}

export function toggleLang() {
  setLang(lang === 'fr' ? 'en' : 'fr');
}
