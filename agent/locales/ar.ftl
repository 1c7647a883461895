# Arabic. Needs review by a native speaker from the sites (docs/resident-window/).
window-title = Acote
language = اللغة
connecting = جارٍ الاتصال…
connected = متصل بـ { $site }.
retrying = لا يوجد اتصال. محاولة جديدة بعد { $secs } ثانية.
code-title = رمزك
give-code = أعطِ هذا الرمز للشخص الذي يساعدك.
code-valid = يعمل الرمز 10 دقائق.
site = المساعدة من: { $site }
who-named = { $name } ({ $site })
who-anonymous = شخص من { $site }
ask-view = { $who } يطلب رؤية شاشتك.
ask-view-detail = سيشاهد فقط. لا يستطيع النقر أو الكتابة.
question = هل توافق؟
allow = نعم، أوافق
refuse = لا
countdown = { $secs ->
    [one] بقيت ثانية واحدة.
    [two] بقيت ثانيتان.
    [few] بقيت { $secs } ثوانٍ.
   *[other] بقيت { $secs } ثانية.
}
no-answer-is-no = إذا لم تُجب، فالجواب لا.
question-withdrawn = أُلغي السؤال. لم تتم مشاركة أي شيء.
sharing-bar = شاشتك ظاهرة لـ { $name }.
stop-sharing = إيقاف
ask-control = { $who } يطلب استخدام الفأرة ولوحة المفاتيح.
ask-control-detail = يمكنك استعادة التحكم في أي وقت.
control-bar = { $name } يستخدم الفأرة ولوحة المفاتيح.
take-back = استعادة التحكم
hotkey-hint = أو اضغط { $keys }.
taken-back = استعدت التحكم. { $name } يشاهد فقط.
control-refused = { $name } يشاهد شاشتك فقط.
ended-refused = قلت لا. لم تتم مشاركة أي شيء.
ended-no-answer = لا جواب. لم تتم مشاركة أي شيء.
ended-peer-gone = انقطع الاتصال. توقفت المشاركة.
ended-error = مشكلة تقنية أوقفت المشاركة.
ended-ended = انتهت المشاركة.
summary-view = شاهد { $name } شاشتك لمدة { $view }.
summary-view-control = شاهد { $name } شاشتك لمدة { $view } وتحكم فيها لمدة { $control }.
duration-minutes = { $n ->
    [one] دقيقة واحدة
    [two] دقيقتين
    [few] { $n } دقائق
   *[other] { $n } دقيقة
}
duration-short = أقل من دقيقة
keep-receipt = الاحتفاظ بإيصال
receipt-saved = حُفظ الإيصال: { $path }
receipt-failed = تعذّر حفظ الإيصال.
done = حسنًا
receipt-title = Acote: إيصال
receipt-helper = المساعد: { $who }
receipt-date = التاريخ: { $date }
receipt-viewed = مشاهدة الشاشة: { $view }
receipt-control = التحكم: { $control }
receipt-no-control = التحكم: لا
config-missing = هذا البرنامج غير مُعَدّ.
config-broken = ملف إعدادات هذا البرنامج تالف.
relay-untrusted = لا يستطيع هذا البرنامج الاتصال بأمان بخدمة المساعدة.
get-help = اعرض هذه النافذة على مكتب الاستقبال.
close = إغلاق
console-yes-no = [y/n]
console-stop = للإيقاف: اكتب q ثم Enter.
console-take-back = لاستعادة التحكم: اكتب s ثم Enter.

# The connection to the relay dropped during a session (resumption).
ended-connection-lost = لم يعد الاتصال خلال دقيقة. توقفت المشاركة.
interrupted = انقطع الاتصال. لا يزال { $who } يرى شاشتك. جارٍ إعادة الاتصال (دقيقة على الأكثر)…
interrupted-control = انقطع الاتصال. لا يزال { $who } يرى شاشتك، ويجب أن يطلب منك الإذن من جديد لاستخدام الفأرة. جارٍ إعادة الاتصال (دقيقة على الأكثر)…
resumed = عاد الاتصال. شاشتك مرئية لـ { $name }.

# عداد البيانات. $amount حجم مكتوب مسبقًا.
data-used = البيانات المستخدمة: { $amount }
data-summary = البيانات المرسلة خلال الجلسة: { $amount }.
data-kb = { $n } كيلوبايت
data-mb = { $x } ميغابايت

# The security code both people compare (read aloud by the caseworker).
security-code = رمز الأمان: { $code }
security-code-help = ما هذا؟
security-code-explained = يرى الشخص الذي يساعدك الرمز نفسه. إذا قرأ لك رمزًا مختلفًا، اضغط على إيقاف: قد يكون هناك من يتنصّت.

# المحادثة مع الشخص الذي يساعد (issue 17).
chat-button = الرسائل
chat-button-unread = الرسائل ({ $n })
chat-title = الرسائل مع { $name }
chat-me = أنت
chat-empty = لا توجد رسائل بعد. يمكنك الكتابة إلى { $name } هنا.
chat-write = رسالتك
chat-send = إرسال
chat-not-sent = لم تُرسل. اكتب رسالة أقصر، أو انتظر الاتصال.

# The caseworker used the resident's clipboard (only with control).
clipboard-read = قرأ { $name } الحافظة لديك.
clipboard-written = وضع { $name } نصا في الحافظة لديك.

# Files from and to the caseworker ($file is the file's name, $size e.g. "240 kB").
file-offered = { $name } يرسل إليك { $file }، { $size }. هل تريد حفظه؟
file-saved = تم حفظ { $file } في التنزيلات.
file-sent = تم إرسال { $file } إلى { $name }.
file-not-saved = لم يتم حفظ { $file }.
file-disk-full = تعذّر حفظ { $file }: القرص ممتلئ.
file-not-sent = لم يتم إرسال { $file }.
# The files window.
files-button = الملفات
files-button-asking = الملفات ({ $n })
files-title = الملفات مع { $name }
files-empty = لا توجد ملفات بعد. يمكن لـ { $name } أن يرسل إليك مستندًا، ويمكنك أنت أيضًا أن ترسل واحدًا.
files-save = حفظ
files-skip = عدم الحفظ
files-send = إرسال ملف
files-open-folder = فتح التنزيلات
files-pick-title = اختر الملف الذي تريد إرساله
files-pick-empty = لم يُعثر على أي ملف في التنزيلات أو المستندات أو سطح المكتب أو الصور.
files-back = رجوع
files-asking = في انتظار إجابتك.
files-receiving = جارٍ الاستلام… { $percent } %
files-sending = جارٍ الإرسال… { $percent } %

# Talking through the computer (issue 17): a separate question for the microphone.
ask-voice = { $who } يطلب التحدث معك عبر الكمبيوتر.
ask-voice-detail = سيكون الميكروفون لديك مشغّلًا، وستسمع صوته من السماعات. يمكنك إطفاء الميكروفون في أي وقت.
voice-bar = أنت تتحدث مع { $name }.
voice-bar-muted = الميكروفون لديك مطفأ. لا يستطيع { $name } سماعك.
voice-mute = إطفاء الميكروفون
voice-unmute = تشغيل الميكروفون
voice-hang-up = إنهاء المكالمة
voice-ended = انتهت المكالمة مع { $name }.
voice-refused = قلت لا للمكالمة. لا يستطيع { $name } سماعك.
voice-no-device = الميكروفون أو السماعات لا تعمل على هذا الكمبيوتر. لا يمكنك التحدث عبره.
console-voice = الميكروفون: اكتب mute أو unmute أو hangup ثم Enter.
