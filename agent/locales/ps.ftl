# Pashto. Needs review by a native speaker from the sites.
window-title = Acote
language = ژبه
connecting = نښلېږي…
connected = له { $site } سره وصل شو.
retrying = اړیکه نشته. په { $secs } ثانیو کې بیا هڅه.
code-title = ستاسو کوډ
give-code = دا کوډ هغه چا ته ورکړئ چې له تاسو سره مرسته کوي.
code-valid = دا کوډ 10 دقیقې کار کوي.
site = مرسته له: { $site }
who-named = { $name } ({ $site })
who-anonymous = یو څوک له { $site } څخه
ask-view = { $who } غواړي ستاسو سکرین وګوري.
ask-view-detail = هغه یوازې ګوري. کلیک یا لیکل نشي کولی.
question = ایا موافق یاست؟
allow = هو، اجازه ده
refuse = نه
countdown = { $secs ->
    [one] { $secs } ثانیه پاتې ده.
   *[other] { $secs } ثانیې پاتې دي.
}
no-answer-is-no = که ځواب ورنکړئ، نو ځواب نه دی.
question-withdrawn = پوښتنه لغوه شوه. هیڅ شی شریک نه شو.
sharing-bar = ستاسو سکرین { $name } ته ښکاري.
stop-sharing = ودرول
ask-control = { $who } غواړي ستاسو موږک او کیبورډ وکاروي.
ask-control-detail = تاسو هر وخت کنټرول بیرته اخیستلی شئ.
control-bar = { $name } ستاسو موږک او کیبورډ کاروي.
take-back = کنټرول بیرته واخلئ
hotkey-hint = یا { $keys } کېکاږئ.
taken-back = تاسو کنټرول بیرته واخیست. { $name } یوازې ګوري.
control-refused = { $name } یوازې ستاسو سکرین ګوري.
ended-refused = تاسو نه وویل. هیڅ شی شریک نه شو.
ended-no-answer = ځواب نه و. هیڅ شی شریک نه شو.
ended-peer-gone = اړیکه پرې شوه. شریکول ودرول شول.
ended-error = یوې تخنیکي ستونزې شریکول ودرول.
ended-ended = شریکول پای ته ورسېدل.
summary-view = { $name } ستاسو سکرین { $view } وکوت.
summary-view-control = { $name } ستاسو سکرین { $view } وکوت او { $control } یې کنټرول درلود.
duration-minutes = { $n ->
    [one] { $n } دقیقه
   *[other] { $n } دقیقې
}
duration-short = له یوې دقیقې لږ
keep-receipt = رسید وساتئ
receipt-saved = رسید خوندي شو: { $path }
receipt-failed = رسید خوندي نه شو.
done = ښه
receipt-title = Acote: رسید
receipt-helper = مرستندوی: { $who }
receipt-date = نېټه: { $date }
receipt-viewed = سکرین کتل: { $view }
receipt-control = کنټرول: { $control }
receipt-no-control = کنټرول: هیڅکله
config-missing = دا پروګرام نه دی تنظیم شوی.
config-broken = د دې پروګرام د تنظیماتو فایل خراب دی.
relay-untrusted = دا پروګرام نشي کولی د مرستې له خدمت سره په خوندي ډول وصل شي.
get-help = دا کړکۍ د استقبال مېز ته وښایاست.
close = بندول
console-yes-no = [y/n]
console-stop = د ودرولو لپاره: q ولیکئ او بیا Enter.
console-take-back = د کنټرول بیرته اخیستلو لپاره: s ولیکئ او بیا Enter.

# The connection to the relay dropped during a session (resumption).
ended-connection-lost = اړیکه په یوه دقیقه کې بیرته رانغله. شریکول ودرول شول.
interrupted = اړیکه پرې شوه. { $who } لا هم ستاسو پرده ویني. بیا نښلول روان دي (تر یوې دقیقې پورې)…
interrupted-control = اړیکه پرې شوه. { $who } لا هم ستاسو پرده ویني؛ د موږک کارولو لپاره باید بیا اجازه وغواړي. بیا نښلول روان دي (تر یوې دقیقې پورې)…
resumed = اړیکه بیرته راغله. ستاسو پرده { $name } ته ښکاري.

# د انټرنېټ د مصرف شمېرونکی. $amount مخکې لیکل شوې اندازه ده.
data-used = مصرف شوی انټرنېټ: { $amount }
data-summary = په دې ناسته کې مصرف شوی انټرنېټ: { $amount }.
data-kb = { $n } کیلوبایټ
data-mb = { $x } میګابایټ

# The security code both people compare (read aloud by the caseworker).
security-code = امنیتي کوډ: { $code }
security-code-help = دا څه دي؟
security-code-explained = هغه څوک چې ستاسو سره مرسته کوي همدا کوډ ویني. که هغه تاسو ته بل کوډ ولوست، «ودرول» کېکاږئ: کېدای شي څوک غوږ نیسي.

# د مرسته کوونکي سره خبرې (issue 17).
chat-button = پیغامونه
chat-button-unread = پیغامونه ({ $n })
chat-title = له { $name } سره پیغامونه
chat-me = تاسو
chat-empty = تر اوسه هیڅ پیغام نشته. تاسو دلته { $name } ته لیکلی شئ.
chat-write = ستاسو پیغام
chat-send = ولیږئ
chat-not-sent = ونه لیږل شو. لنډ پیغام ولیکئ، یا د اړیکې انتظار وکړئ.

# The caseworker used the resident's clipboard (only with control).
clipboard-read = { $name } ستاسو کلیپ بورډ ولوست.
clipboard-written = { $name } ستاسو کلیپ بورډ ته متن واچاوه.

# Files from and to the caseworker ($file is the file's name, $size e.g. "240 kB").
file-offered = { $name } تاسو ته { $file } درلیږي، { $size }. خوندي یې کړم؟
file-saved = { $file } په ډاونلوډونو کې خوندي شو.
file-sent = { $file } { $name } ته ولیږل شو.
file-not-saved = { $file } خوندي نه شو.
file-disk-full = { $file } خوندي نه شو: ډیسک ډک دی.
file-not-sent = { $file } ونه لیږل شو.
# The files window.
files-button = فایلونه
files-button-asking = فایلونه ({ $n })
files-title = فایلونه له { $name } سره
files-empty = تر اوسه فایل نشته. { $name } تاسو ته سند لیږلی شي، او تاسو هم یو لیږلی شئ.
files-save = خوندي کول
files-skip = مه یې خوندي کوئ
files-send = فایل ولیږئ
files-open-folder = ډاونلوډونه پرانیزئ
files-pick-title = هغه فایل وټاکئ چې لیږل غواړئ
files-pick-empty = په ډاونلوډونو، اسنادو، ډیسکټاپ یا انځورونو کې فایل ونه موندل شو.
files-back = شاته
files-asking = ستاسو ځواب ته انتظار.
files-receiving = ترلاسه کېږي… { $percent } %
files-sending = لیږل کېږي… { $percent } %

# Talking through the computer (issue 17): a separate question for the microphone.
ask-voice = { $who } غواړي د کمپیوټر له لارې له تاسو سره خبرې وکړي.
ask-voice-detail = ستاسو مایکروفون به روښانه وي، او د هغه غږ به په سپیکر کې واورئ. تاسو هر وخت مایکروفون بندولی شئ.
voice-bar = تاسو له { $name } سره خبرې کوئ.
voice-bar-muted = ستاسو مایکروفون بند دی. { $name } ستاسو غږ نشي اورېدلی.
voice-mute = مایکروفون بند کړئ
voice-unmute = مایکروفون روښانه کړئ
voice-hang-up = خبرې پای ته ورسوئ
voice-ended = له { $name } سره خبرې پای ته ورسېدې.
voice-refused = تاسو خبرو ته نه وویل. { $name } ستاسو غږ نشي اورېدلی.
voice-no-device = په دې کمپیوټر کې مایکروفون یا سپیکر کار نه کوي. د دې کمپیوټر له لارې خبرې نشئ کولی.
console-voice = مایکروفون: mute، unmute یا hangup ولیکئ او بیا Enter.
