# Tigrinya. Needs review by a native speaker from the sites.
window-title = Acote
language = ቋንቋ
connecting = ይራኸብ ኣሎ…
connected = ምስ { $site } ተራኺቡ።
retrying = ርክብ የለን። ድሕሪ { $secs } ካልኢት ደጊሙ ክፍትን እዩ።
code-title = ኮድኩም
give-code = ነዚ ኮድ ነቲ ዝሕግዘኩም ዘሎ ሰብ ሃብዎ።
code-valid = ን10 ደቒቕ ይሰርሕ።
site = ሓገዝ ካብ: { $site }
who-named = { $name } ({ $site })
who-anonymous = ሓደ ሰብ ካብ { $site }
ask-view = { $who } ስክሪንኩም ክርኢ ይደሊ።
ask-view-detail = ክርኢ ጥራይ እዩ። ክጥውቕ ወይ ክጽሕፍ ኣይክእልን።
question = ትሰማምዑ ዶ?
allow = እወ፣ እፈቅድ
refuse = ኣይፋል
countdown = { $secs } ካልኢት ተሪፉ።
no-answer-is-no = መልሲ እንተዘይሂብኩም፣ ኣይፋል ማለት እዩ።
question-withdrawn = እቲ ሕቶ ተሰሪዙ። ዋላ ሓንቲ ኣይተኻፈለን።
sharing-bar = ስክሪንኩም ን{ $name } ይርአ ኣሎ።
stop-sharing = ደው ኣብል
ask-control = { $who } ማውስኩምን ኪቦርድኩምን ክጥቀም ይደሊ።
ask-control-detail = ኣብ ዝኾነ እዋን ቁጽጽር ክትመልሱ ትኽእሉ ኢኹም።
control-bar = { $name } ማውስኩምን ኪቦርድኩምን ይጥቀም ኣሎ።
take-back = ቁጽጽር መልሱ
hotkey-hint = ወይ { $keys } ጠውቑ።
taken-back = ቁጽጽር መሊስኩም። { $name } ክርኢ ጥራይ ይኽእል።
control-refused = { $name } ስክሪንኩም ክርኢ ጥራይ ይኽእል።
ended-refused = ኣይፋል ኢልኩም። ዋላ ሓንቲ ኣይተኻፈለን።
ended-no-answer = መልሲ የለን። ዋላ ሓንቲ ኣይተኻፈለን።
ended-peer-gone = ርክብ ተቛሪጹ። ምክፋል ደው ኢሉ።
ended-error = ቴክኒካዊ ጸገም ምክፋል ደው ኣቢሉዎ።
ended-ended = ምክፋል ተወዲኡ።
summary-view = { $name } ስክሪንኩም ን{ $view } ርእዩ።
summary-view-control = { $name } ስክሪንኩም ን{ $view } ርእዩ፣ ን{ $control } ድማ ተቖጻጺሩ።
duration-minutes = { $n } ደቒቕ
duration-short = ካብ ሓደ ደቒቕ ዝውሕድ
keep-receipt = ቅብሊት ሓዙ
receipt-saved = ቅብሊት ተዓቂቡ: { $path }
receipt-failed = ቅብሊት ክዕቀብ ኣይከኣለን።
done = ሕራይ
receipt-title = Acote: ቅብሊት
receipt-helper = ሓጋዚ: { $who }
receipt-date = ዕለት: { $date }
receipt-viewed = ስክሪን ዝተራእየሉ: { $view }
receipt-control = ቁጽጽር: { $control }
receipt-no-control = ቁጽጽር: ኣይነበረን
config-missing = እዚ ፕሮግራም ኣይተዳለወን።
config-broken = ፋይል ምድላው ናይዚ ፕሮግራም ተበላሺዩ።
relay-untrusted = እዚ ፕሮግራም ብውሑስ መንገዲ ምስ ኣገልግሎት ሓገዝ ክራኸብ ኣይከኣለን።
get-help = ነዚ መስኮት ኣብ መቐበሊ ኣርእዩ።
close = ዕጸው
console-yes-no = [y/n]
console-stop = ደው ንምባል: q ጽሓፉ ድሕሪኡ Enter።
console-take-back = ቁጽጽር ንምምላስ: s ጽሓፉ ድሕሪኡ Enter።

# The connection to the relay dropped during a session (resumption).
ended-connection-lost = ርክክብ ኣብ ውሽጢ ሓደ ደቒቕ ኣይተመልሰን። ምክፋል ደው ኢሉ።
interrupted = ርክክብ ተቋሪጹ። { $who } ገና ስክሪንካ ይርኢ ኣሎ። ዳግማይ ይራኸብ ኣሎ (ብዝበዝሐ ሓደ ደቒቕ)…
interrupted-control = ርክክብ ተቋሪጹ። { $who } ገና ስክሪንካ ይርኢ ኣሎ፤ ማውስካ ንምጥቃም ደጊሙ ክሓትት ኣለዎ። ዳግማይ ይራኸብ ኣሎ (ብዝበዝሐ ሓደ ደቒቕ)…
resumed = ርክክብ ተመሊሱ። ስክሪንካ ን{ $name } ይርአ ኣሎ።

# ቆጻሪ ዳታ። $amount ቅድሚ ሕጂ ዝተጻሕፈ መጠን እዩ።
data-used = ዝተጠቐምኩምሉ ዳታ: { $amount }
data-summary = ኣብዚ ምክፋል ዝተላእከ ዳታ: { $amount }።
data-kb = { $n } ኪሎባይት
data-mb = { $x } ሜጋባይት

# The security code both people compare (read aloud by the caseworker).
security-code = ናይ ድሕንነት ኮድ: { $code }
security-code-help = እዚ እንታይ እዩ?
security-code-explained = እቲ ዝሕግዘኩም ሰብ ተመሳሳሊ ኮድ ይርኢ እዩ። ካልእ ኮድ እንተ ኣንቢቡልኩም፡ «ደው ኣብል» ጠውቑ፡ ሓደ ሰብ ይሰምዕ ክኸውን ይኽእል እዩ።

# ምስ ዝሕግዝ ሰብ ዝርርብ (issue 17).
chat-button = መልእኽትታት
chat-button-unread = መልእኽትታት ({ $n })
chat-title = መልእኽትታት ምስ { $name }
chat-me = ንስኹም
chat-empty = ገና መልእኽቲ የለን። ኣብዚ ን{ $name } ክትጽሕፉ ትኽእሉ ኢኹም።
chat-write = መልእኽትኹም
chat-send = ስደዱ
chat-not-sent = ኣይተላእከን። ሓጺር መልእኽቲ ጽሓፉ፡ ወይ ንመራኸቢ ተጸበዩ።

# The caseworker used the resident's clipboard (only with control).
clipboard-read = { $name } ናይ ክሊፕቦርድኩም ኣንቢቡ።
clipboard-written = { $name } ኣብ ክሊፕቦርድኩም ጽሑፍ ኣእትዩ።

# Files from and to the caseworker ($file is the file's name, $size e.g. "240 kB").
file-offered = { $name } { $file } ይሰደልኩም ኣሎ፣ { $size }። ይዕቀብ ዶ?
file-saved = { $file } ኣብ ዳውንሎድ ተዓቂቡ።
file-sent = { $file } ናብ { $name } ተላኢኹ።
file-not-saved = { $file } ኣይተዓቀበን።
file-disk-full = { $file } ክዕቀብ ኣይከኣለን፡ ዲስክ መሊኡ።
file-not-sent = { $file } ኣይተላእከን።
# The files window.
files-button = ፋይላት
files-button-asking = ፋይላት ({ $n })
files-title = ፋይላት ምስ { $name }
files-empty = ገና ፋይል የለን። { $name } ሰነድ ክሰደልኩም ይኽእል፣ ንስኹም ውን ክትሰዱ ትኽእሉ።
files-save = ዕቀብ
files-skip = ኣይትዕቀብ
files-send = ፋይል ስደድ
files-open-folder = ዳውንሎድ ክፈት
files-pick-title = ክትሰዶ እትደልዮ ፋይል ምረጹ
files-pick-empty = ኣብ ዳውንሎድ፣ ሰነዳት፣ ዴስክቶፕ ወይ ስእልታት ፋይል ኣይተረኽበን።
files-back = ተመለስ
files-asking = መልስኹም ይጽበ ኣሎ።
files-receiving = ይቕበል ኣሎ… { $percent } %
files-sending = ይሰድድ ኣሎ… { $percent } %

# Talking through the computer (issue 17): a separate question for the microphone.
ask-voice = { $who } ብኮምፒዩተር ምሳኹም ክዛረብ ይደሊ።
ask-voice-detail = ማይክሮፎንኩም ክኽፈት እዩ፣ ድምጹ ድማ ብስፒከር ክትሰምዑ ኢኹም። ኣብ ዝኾነ እዋን ማይክሮፎን ክትዓጽዉ ትኽእሉ ኢኹም።
voice-bar = ምስ { $name } ትዛረቡ ኣለኹም።
voice-bar-muted = ማይክሮፎንኩም ዕጹው እዩ። { $name } ክሰምዓኩም ኣይክእልን።
voice-mute = ማይክሮፎን ዕጸው
voice-unmute = ማይክሮፎን ክፈት
voice-hang-up = ዝርርብ ወድኡ
voice-ended = ምስ { $name } ዝነበረ ዝርርብ ተወዲኡ።
voice-refused = ነቲ ዝርርብ ኣይፋል ኢልኩም። { $name } ክሰምዓኩም ኣይክእልን።
voice-no-device = ኣብዚ ኮምፒዩተር ማይክሮፎን ወይ ስፒከር ኣይሰርሕን። ብእኡ ክትዛረቡ ኣይትኽእሉን።
console-voice = ማይክሮፎን: mute፣ unmute ወይ hangup ጽሓፉ ድሕሪኡ Enter።
