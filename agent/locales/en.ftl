# The resident's sentences in English. Short, plain, one idea each.
# Placeables: $site, $name (already cleaned), $who (a name and a site), $secs, $n,
# $view and $control (durations), $keys (the hotkey), $path, $date.
window-title = Acote
language = Language
connecting = Connecting…
connected = Connected to { $site }.
retrying = No connection. New try in { $secs } s.
code-title = Your code
give-code = Give this code to the person who helps you.
code-valid = It works for 10 minutes.
site = Help from: { $site }
who-named = { $name } ({ $site })
who-anonymous = Someone from { $site }
ask-view = { $who } asks to see your screen.
ask-view-detail = They can only look. They cannot click or type.
question = Do you agree?
allow = Yes, allow
refuse = No
countdown = { $secs ->
    [one] { $secs } second left.
   *[other] { $secs } seconds left.
}
no-answer-is-no = No answer means no.
question-withdrawn = The question is cancelled. Nothing is shared.
sharing-bar = Your screen is visible to { $name }.
stop-sharing = Stop
ask-control = { $who } asks to use your mouse and keyboard.
ask-control-detail = You can take back control at any time.
control-bar = { $name } is using your mouse and keyboard.
take-back = Take back control
hotkey-hint = Or press { $keys }.
taken-back = You took back control. { $name } can only watch.
control-refused = { $name } can only watch your screen.
ended-refused = You said no. Nothing was shared.
ended-no-answer = No answer. Nothing was shared.
ended-peer-gone = The connection was lost. Sharing has stopped.
ended-error = A technical problem stopped the sharing.
ended-ended = Sharing has ended.
summary-view = { $name } saw your screen for { $view }.
summary-view-control = { $name } saw your screen for { $view } and had control for { $control }.
duration-minutes = { $n ->
    [one] { $n } minute
   *[other] { $n } minutes
}
duration-short = less than a minute
keep-receipt = Keep a receipt
receipt-saved = Receipt saved: { $path }
receipt-failed = The receipt could not be saved.
done = OK
receipt-title = Acote: receipt
receipt-helper = Helper: { $who }
receipt-date = Date: { $date }
receipt-viewed = Screen seen: { $view }
receipt-control = Control: { $control }
receipt-no-control = Control: never
config-missing = This program is not set up.
config-broken = The settings file of this program is damaged.
relay-untrusted = This program cannot connect safely to the help service.
get-help = Show this window at the reception desk.
close = Close
console-yes-no = [y/n]
console-stop = To stop: type q then Enter.
console-take-back = To take back control: type s then Enter.

# The connection to the relay dropped during a session (resumption).
ended-connection-lost = The connection did not come back within a minute. Sharing has stopped.
interrupted = The connection was interrupted. { $who } can still see your screen. Reconnecting (a minute at most)…
interrupted-control = The connection was interrupted. { $who } can still see your screen; they must ask again to use your mouse. Reconnecting (a minute at most)…
resumed = The connection is back. Your screen is visible to { $name }.

# The data counter (DESIGN: issue "video tuned for forms on poor links"). $amount is a
# size already in words ("2.4 MB"); $n a whole number, $x a number with one decimal.
data-used = Data used: { $amount }
data-summary = Data sent during the session: { $amount }.
data-kb = { $n } KB
data-mb = { $x } MB

# The security code both people compare (read aloud by the caseworker).
security-code = Security code: { $code }
security-code-help = What is this?
security-code-explained = The person helping you sees the same code. If they read you a different one, press Stop: someone may be listening in.

# Chat with the person helping (issue 17). $name is who helps, $n a count.
chat-button = Messages
chat-button-unread = Messages ({ $n })
chat-title = Messages with { $name }
chat-me = You
chat-empty = No messages yet. You can write to { $name } here.
chat-write = Your message
chat-send = Send
chat-not-sent = Not sent. Write a shorter message, or wait for the connection.

# The caseworker used the resident's clipboard (only with control).
clipboard-read = { $name } read your clipboard.
clipboard-written = { $name } put text in your clipboard.

# Files from and to the caseworker ($file is the file's name, $size e.g. "240 kB").
file-offered = { $name } sends you { $file }, { $size }. Save it?
file-saved = { $file } is saved in Downloads.
file-sent = { $file } was sent to { $name }.
file-not-saved = { $file } was not saved.
file-disk-full = { $file } could not be saved: the disk is full.
file-not-sent = { $file } was not sent.
# The files window.
files-button = Files
files-button-asking = Files ({ $n })
files-title = Files with { $name }
files-empty = No files yet. { $name } can send you a document, and you can send one too.
files-save = Save
files-skip = Don't save
files-send = Send a file
files-open-folder = Open Downloads
files-pick-title = Choose the file to send
files-pick-empty = No file found in Downloads, Documents, Desktop or Pictures.
files-back = Back
files-asking = Waiting for your answer.
files-receiving = Receiving… { $percent } %
files-sending = Sending… { $percent } %

# Talking through the computer (issue 17): a separate question for the microphone.
ask-voice = { $who } asks to talk with you through the computer.
ask-voice-detail = Your microphone will be on, and you will hear them in the speakers. You can turn the microphone off at any time.
voice-bar = You are talking with { $name }.
voice-bar-muted = Your microphone is off. { $name } cannot hear you.
voice-mute = Turn off microphone
voice-unmute = Turn on microphone
voice-hang-up = End the call
voice-ended = The call with { $name } has ended.
voice-refused = You said no to the call. { $name } cannot hear you.
voice-no-device = No microphone or speaker works on this computer. You cannot talk through it.
console-voice = Microphone: type mute, unmute or hangup then Enter.
