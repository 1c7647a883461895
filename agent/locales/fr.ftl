# Les phrases du résident en français (langue par défaut). Courtes, simples, une idée
# chacune. Mêmes clés et mêmes variables que en.ftl.
window-title = Acote
language = Langue
connecting = Connexion…
connected = Connecté à { $site }.
retrying = Pas de connexion. Nouvel essai dans { $secs } s.
code-title = Votre code
give-code = Donnez ce code à la personne qui vous aide.
code-valid = Il marche 10 minutes.
site = Aide : { $site }
who-named = { $name } ({ $site })
who-anonymous = Une personne de { $site }
ask-view = { $who } demande à voir votre écran.
ask-view-detail = Elle pourra seulement regarder. Elle ne pourra ni cliquer ni écrire.
question = Acceptez-vous ?
allow = Oui, j'accepte
refuse = Non
countdown = { $secs ->
    [one] Encore { $secs } seconde.
   *[other] Encore { $secs } secondes.
}
no-answer-is-no = Sans réponse, c'est non.
question-withdrawn = La question est annulée. Rien n'est partagé.
sharing-bar = Votre écran est visible par { $name }.
stop-sharing = Arrêter
ask-control = { $who } demande à utiliser votre souris et votre clavier.
ask-control-detail = Vous pourrez reprendre la main à tout moment.
control-bar = { $name } utilise votre souris et votre clavier.
take-back = Reprendre la main
hotkey-hint = Ou appuyez sur { $keys }.
taken-back = Vous avez repris la main. { $name } peut seulement regarder.
control-refused = { $name } peut seulement regarder votre écran.
ended-refused = Vous avez dit non. Rien n'a été partagé.
ended-no-answer = Pas de réponse : rien n'a été partagé.
ended-peer-gone = La connexion a été coupée. Le partage est arrêté.
ended-error = Un problème technique a arrêté le partage.
ended-ended = Le partage est terminé.
summary-view = { $name } a vu votre écran pendant { $view }.
summary-view-control = { $name } a vu votre écran pendant { $view } et a eu la main pendant { $control }.
duration-minutes = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
duration-short = moins d'une minute
keep-receipt = Garder un reçu
receipt-saved = Reçu enregistré : { $path }
receipt-failed = Le reçu n'a pas pu être enregistré.
done = OK
receipt-title = Acote : reçu
receipt-helper = Aide : { $who }
receipt-date = Date : { $date }
receipt-viewed = Écran vu : { $view }
receipt-control = Contrôle : { $control }
receipt-no-control = Contrôle : jamais
config-missing = Ce programme n'est pas configuré.
config-broken = Le fichier de réglages de ce programme est abîmé.
relay-untrusted = Ce programme ne peut pas se connecter en sécurité au service d'aide.
get-help = Montrez cette fenêtre à l'accueil.
close = Fermer
console-yes-no = [o/n]
console-stop = Pour arrêter : tapez q puis Entrée.
console-take-back = Pour reprendre la main : tapez s puis Entrée.

# The connection to the relay dropped during a session (resumption).
ended-connection-lost = La connexion n'est pas revenue en 1 minute. Le partage est arrêté.
interrupted = La connexion est interrompue. { $who } peut encore voir votre écran. Reconnexion en cours (1 minute au plus)…
interrupted-control = La connexion est interrompue. { $who } peut encore voir votre écran ; pour utiliser votre souris, il faudra vous redemander. Reconnexion en cours (1 minute au plus)…
resumed = La connexion est revenue. Votre écran est visible par { $name }.

# Le compteur de données. $amount est une taille déjà écrite (« 2,4 Mo »).
data-used = Données utilisées : { $amount }
data-summary = Données envoyées pendant la session : { $amount }.
data-kb = { $n } Ko
data-mb = { $x } Mo

# The security code both people compare (read aloud by the caseworker).
security-code = Code de sécurité : { $code }
security-code-help = Qu'est-ce que c'est ?
security-code-explained = La personne qui vous aide voit le même code. Si elle vous lit un autre code, appuyez sur Arrêter : quelqu'un pourrait écouter.

# Discussion avec la personne qui aide (issue 17). $name : qui aide, $n : un nombre.
chat-button = Messages
chat-button-unread = Messages ({ $n })
chat-title = Messages avec { $name }
chat-me = Vous
chat-empty = Pas encore de message. Vous pouvez écrire à { $name } ici.
chat-write = Votre message
chat-send = Envoyer
chat-not-sent = Non envoyé. Écrivez un message plus court, ou attendez la connexion.

# The caseworker used the resident's clipboard (only with control).
clipboard-read = { $name } a lu votre presse-papiers.
clipboard-written = { $name } a mis du texte dans votre presse-papiers.

# Files from and to the caseworker ($file is the file's name, $size e.g. "240 kB").
file-offered = { $name } vous envoie { $file }, { $size }. L'enregistrer ?
file-saved = { $file } est enregistré dans Téléchargements.
file-sent = { $file } a été envoyé à { $name }.
file-not-saved = { $file } n'a pas été enregistré.
file-disk-full = { $file } n'a pas pu être enregistré : le disque est plein.
file-not-sent = { $file } n'a pas été envoyé.
# The files window.
files-button = Fichiers
files-button-asking = Fichiers ({ $n })
files-title = Fichiers avec { $name }
files-empty = Aucun fichier pour l'instant. { $name } peut vous envoyer un document, et vous pouvez en envoyer un.
files-save = Enregistrer
files-skip = Ne pas enregistrer
files-send = Envoyer un fichier
files-open-folder = Ouvrir Téléchargements
files-pick-title = Choisissez le fichier à envoyer
files-pick-empty = Aucun fichier dans Téléchargements, Documents, Bureau ou Images.
files-back = Retour
files-asking = En attente de votre réponse.
files-receiving = Réception… { $percent } %
files-sending = Envoi… { $percent } %

# Talking through the computer (issue 17): a separate question for the microphone.
ask-voice = { $who } demande à vous parler par l'ordinateur.
ask-voice-detail = Votre micro sera allumé, et vous entendrez cette personne dans les haut-parleurs. Vous pourrez couper le micro à tout moment.
voice-bar = Vous parlez avec { $name }.
voice-bar-muted = Votre micro est coupé. { $name } ne vous entend pas.
voice-mute = Couper le micro
voice-unmute = Allumer le micro
voice-hang-up = Terminer l'appel
voice-ended = L'appel avec { $name } est terminé.
voice-refused = Vous avez dit non à l'appel. { $name } ne vous entend pas.
voice-no-device = Le micro ou les haut-parleurs ne marchent pas sur cet ordinateur. Vous ne pouvez pas parler par l'ordinateur.
console-voice = Micro : tapez mute, unmute ou hangup puis Entrée.
