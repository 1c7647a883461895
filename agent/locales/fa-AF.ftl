# Dari (Afghan Persian). Needs review by a native speaker from the sites.
window-title = Acote
language = زبان
connecting = در حال وصل شدن…
connected = به { $site } وصل شد.
retrying = اتصال نیست. کوشش دوباره بعد از { $secs } ثانیه.
code-title = کود شما
give-code = این کود را به کسی که به شما کمک می‌کند بدهید.
code-valid = این کود 10 دقیقه کار می‌کند.
site = کمک از: { $site }
who-named = { $name } ({ $site })
who-anonymous = یک نفر از { $site }
ask-view = { $who } می‌خواهد صفحهٔ شما را ببیند.
ask-view-detail = او فقط می‌بیند. نمی‌تواند کلیک کند یا بنویسد.
question = آیا موافق هستید؟
allow = بلی، اجازه است
refuse = نخیر
countdown = { $secs } ثانیه مانده است.
no-answer-is-no = اگر جواب ندهید، یعنی نخیر.
question-withdrawn = سوال لغو شد. هیچ چیز شریک نشد.
sharing-bar = صفحهٔ شما برای { $name } دیده می‌شود.
stop-sharing = توقف
ask-control = { $who } می‌خواهد از موس و کیبورد شما استفاده کند.
ask-control-detail = هر وقت بخواهید می‌توانید کنترول را پس بگیرید.
control-bar = { $name } از موس و کیبورد شما استفاده می‌کند.
take-back = پس گرفتن کنترول
hotkey-hint = یا { $keys } را فشار دهید.
taken-back = کنترول را پس گرفتید. { $name } فقط می‌بیند.
control-refused = { $name } فقط صفحهٔ شما را می‌بیند.
ended-refused = شما نخیر گفتید. هیچ چیز شریک نشد.
ended-no-answer = جوابی نبود. هیچ چیز شریک نشد.
ended-peer-gone = اتصال قطع شد. شریک‌سازی متوقف شد.
ended-error = یک مشکل تخنیکی شریک‌سازی را متوقف کرد.
ended-ended = شریک‌سازی تمام شد.
summary-view = { $name } صفحهٔ شما را برای { $view } دید.
summary-view-control = { $name } صفحهٔ شما را برای { $view } دید و برای { $control } کنترول داشت.
duration-minutes = { $n } دقیقه
duration-short = کمتر از یک دقیقه
keep-receipt = نگه داشتن رسید
receipt-saved = رسید ذخیره شد: { $path }
receipt-failed = رسید ذخیره نشد.
done = خوب
receipt-title = Acote: رسید
receipt-helper = کمک‌کننده: { $who }
receipt-date = تاریخ: { $date }
receipt-viewed = دیدن صفحه: { $view }
receipt-control = کنترول: { $control }
receipt-no-control = کنترول: هیچ وقت
config-missing = این برنامه تنظیم نشده است.
config-broken = فایل تنظیمات این برنامه خراب است.
relay-untrusted = این برنامه نمی‌تواند به‌طور امن به خدمات کمک وصل شود.
get-help = این کلکین را به میز پذیرش نشان دهید.
close = بستن
console-yes-no = [y/n]
console-stop = برای توقف: q را بنویسید و Enter را فشار دهید.
console-take-back = برای پس گرفتن کنترول: s را بنویسید و Enter را فشار دهید.

# The connection to the relay dropped during a session (resumption).
ended-connection-lost = ارتباط در یک دقیقه دوباره برقرار نشد. اشتراک متوقف شد.
interrupted = ارتباط قطع شد. { $who } هنوز صفحهٔ شما را می‌بیند. در حال وصل شدن دوباره (حداکثر یک دقیقه)…
interrupted-control = ارتباط قطع شد. { $who } هنوز صفحهٔ شما را می‌بیند؛ برای استفاده از موس شما باید دوباره اجازه بگیرد. در حال وصل شدن دوباره (حداکثر یک دقیقه)…
resumed = ارتباط دوباره برقرار شد. صفحهٔ شما برای { $name } قابل دیدن است.

# شمارندهٔ مصرف انترنت. $amount اندازه‌ای است که از قبل نوشته شده.
data-used = انترنت مصرف‌شده: { $amount }
data-summary = انترنت مصرف‌شده در این جلسه: { $amount }.
data-kb = { $n } کیلوبایت
data-mb = { $x } مگابایت

# The security code both people compare (read aloud by the caseworker).
security-code = کد امنیتی: { $code }
security-code-help = این چیست؟
security-code-explained = کسی که به شما کمک می‌کند همین کد را می‌بیند. اگر کد دیگری برای شما خواند، «توقف» را فشار دهید: شاید کسی گوش می‌دهد.

# گفتگو با کسی که کمک می‌کند (issue 17).
chat-button = پیام‌ها
chat-button-unread = پیام‌ها ({ $n })
chat-title = پیام‌ها با { $name }
chat-me = شما
chat-empty = هنوز پیامی نیست. می‌توانید اینجا برای { $name } بنویسید.
chat-write = پیام شما
chat-send = فرستادن
chat-not-sent = فرستاده نشد. پیام کوتاه‌تری بنویسید، یا منتظر اتصال بمانید.

# The caseworker used the resident's clipboard (only with control).
clipboard-read = { $name } کلیپ‌بورد شما را خواند.
clipboard-written = { $name } متنی را در کلیپ‌بورد شما گذاشت.

# Files from and to the caseworker ($file is the file's name, $size e.g. "240 kB").
file-offered = { $name } برای شما { $file } را می‌فرستد، { $size }. ذخیره شود؟
file-saved = { $file } در دانلودها ذخیره شد.
file-sent = { $file } برای { $name } فرستاده شد.
file-not-saved = { $file } ذخیره نشد.
file-disk-full = { $file } ذخیره نشد: دیسک پر است.
file-not-sent = { $file } فرستاده نشد.
# The files window.
files-button = فایل‌ها
files-button-asking = فایل‌ها ({ $n })
files-title = فایل‌ها با { $name }
files-empty = هنوز فایلی نیست. { $name } می‌تواند برای شما سندی بفرستد و شما هم می‌توانید بفرستید.
files-save = ذخیره
files-skip = ذخیره نکن
files-send = فرستادن فایل
files-open-folder = باز کردن دانلودها
files-pick-title = فایلی را که می‌خواهید بفرستید انتخاب کنید
files-pick-empty = در دانلودها، اسناد، دسکتاپ یا تصاویر فایلی پیدا نشد.
files-back = برگشت
files-asking = در انتظار پاسخ شما.
files-receiving = در حال دریافت… { $percent } %
files-sending = در حال فرستادن… { $percent } %

# Talking through the computer (issue 17): a separate question for the microphone.
ask-voice = { $who } می‌خواهد از طریق کمپیوتر با شما صحبت کند.
ask-voice-detail = مایکروفون شما روشن می‌شود و صدای او را از سپیکر می‌شنوید. هر وقت بخواهید می‌توانید مایکروفون را خاموش کنید.
voice-bar = شما با { $name } صحبت می‌کنید.
voice-bar-muted = مایکروفون شما خاموش است. { $name } صدای شما را نمی‌شنود.
voice-mute = خاموش کردن مایکروفون
voice-unmute = روشن کردن مایکروفون
voice-hang-up = ختم تماس
voice-ended = تماس با { $name } ختم شد.
voice-refused = شما به تماس نخیر گفتید. { $name } صدای شما را نمی‌شنود.
voice-no-device = مایکروفون یا سپیکر در این کمپیوتر کار نمی‌کند. از طریق این کمپیوتر نمی‌توانید صحبت کنید.
console-voice = مایکروفون: mute، unmute یا hangup را بنویسید و Enter را فشار دهید.
