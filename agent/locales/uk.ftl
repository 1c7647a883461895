# Ukrainian. Needs review by a native speaker from the sites.
window-title = Acote
language = Мова
connecting = З'єднання…
connected = З'єднано з { $site }.
retrying = Немає з'єднання. Нова спроба через { $secs } с.
code-title = Ваш код
give-code = Дайте цей код людині, яка вам допомагає.
code-valid = Він діє 10 хвилин.
site = Допомога: { $site }
who-named = { $name } ({ $site })
who-anonymous = Хтось із { $site }
ask-view = { $who } просить побачити ваш екран.
ask-view-detail = Ця людина зможе лише дивитися. Натискати чи писати вона не зможе.
question = Ви згодні?
allow = Так, дозволяю
refuse = Ні
countdown = { $secs ->
    [one] Залишилася { $secs } секунда.
    [few] Залишилося { $secs } секунди.
   *[other] Залишилося { $secs } секунд.
}
no-answer-is-no = Немає відповіді — це «ні».
question-withdrawn = Питання скасовано. Нічого не показано.
sharing-bar = Ваш екран бачить { $name }.
stop-sharing = Зупинити
ask-control = { $who } просить керувати вашою мишею і клавіатурою.
ask-control-detail = Ви можете повернути керування будь-коли.
control-bar = { $name } керує вашою мишею і клавіатурою.
take-back = Повернути керування
hotkey-hint = Або натисніть { $keys }.
taken-back = Ви повернули керування. { $name } може лише дивитися.
control-refused = { $name } може лише дивитися на ваш екран.
ended-refused = Ви сказали «ні». Нічого не показано.
ended-no-answer = Немає відповіді. Нічого не показано.
ended-peer-gone = З'єднання втрачено. Показ зупинено.
ended-error = Технічна проблема зупинила показ.
ended-ended = Показ завершено.
summary-view = Ваш екран був відкритий для { $name } { $view }.
summary-view-control = Ваш екран був відкритий для { $name } { $view }, керування — { $control }.
duration-minutes = { $n ->
    [one] { $n } хвилину
    [few] { $n } хвилини
   *[other] { $n } хвилин
}
duration-short = менше хвилини
keep-receipt = Зберегти квитанцію
receipt-saved = Квитанцію збережено: { $path }
receipt-failed = Не вдалося зберегти квитанцію.
done = Гаразд
receipt-title = Acote: квитанція
receipt-helper = Помічник: { $who }
receipt-date = Дата: { $date }
receipt-viewed = Перегляд екрана: { $view }
receipt-control = Керування: { $control }
receipt-no-control = Керування: не було
config-missing = Ця програма не налаштована.
config-broken = Файл налаштувань цієї програми пошкоджено.
relay-untrusted = Ця програма не може безпечно з'єднатися зі службою допомоги.
get-help = Покажіть це вікно на рецепції.
close = Закрити
console-yes-no = [y/n]
console-stop = Щоб зупинити: введіть q і натисніть Enter.
console-take-back = Щоб повернути керування: введіть s і натисніть Enter.

# The connection to the relay dropped during a session (resumption).
ended-connection-lost = З'єднання не відновилося протягом хвилини. Показ зупинено.
interrupted = З'єднання перервано. { $who } досі бачить ваш екран. Повторне з'єднання (не довше хвилини)…
interrupted-control = З'єднання перервано. { $who } досі бачить ваш екран; щоб користуватися вашою мишею, потрібно попросити знову. Повторне з'єднання (не довше хвилини)…
resumed = З'єднання відновлено. Ваш екран бачить { $name }.

# Лічильник даних. $amount — уже записаний розмір («2,4 МБ»).
data-used = Використано даних: { $amount }
data-summary = За сеанс надіслано даних: { $amount }.
data-kb = { $n } КБ
data-mb = { $x } МБ

# The security code both people compare (read aloud by the caseworker).
security-code = Код безпеки: { $code }
security-code-help = Що це?
security-code-explained = Людина, яка вам допомагає, бачить той самий код. Якщо вона прочитає вам інший код, натисніть «Зупинити»: хтось може підслуховувати.

# Листування з тим, хто допомагає (issue 17).
chat-button = Повідомлення
chat-button-unread = Повідомлення ({ $n })
chat-title = Повідомлення: { $name }
chat-me = Ви
chat-empty = Повідомлень ще немає. Тут можна написати: { $name }.
chat-write = Ваше повідомлення
chat-send = Надіслати
chat-not-sent = Не надіслано. Напишіть коротше або зачекайте на з'єднання.

# The caseworker used the resident's clipboard (only with control).
clipboard-read = { $name } прочитав(ла) ваш буфер обміну.
clipboard-written = { $name } поклав(ла) текст у ваш буфер обміну.

# Files from and to the caseworker ($file is the file's name, $size e.g. "240 kB").
file-offered = { $name } надсилає вам { $file }, { $size }. Зберегти?
file-saved = { $file } збережено в «Завантаженнях».
file-sent = { $file } надіслано: { $name }.
file-not-saved = { $file } не збережено.
file-disk-full = Не вдалося зберегти { $file }: диск заповнений.
file-not-sent = { $file } не надіслано.
# The files window.
files-button = Файли
files-button-asking = Файли ({ $n })
files-title = Файли: { $name }
files-empty = Файлів поки немає. { $name } може надіслати вам документ, і ви теж можете надіслати.
files-save = Зберегти
files-skip = Не зберігати
files-send = Надіслати файл
files-open-folder = Відкрити «Завантаження»
files-pick-title = Виберіть файл для надсилання
files-pick-empty = У «Завантаженнях», «Документах», на робочому столі та в «Зображеннях» файлів немає.
files-back = Назад
files-asking = Чекаємо на вашу відповідь.
files-receiving = Отримання… { $percent } %
files-sending = Надсилання… { $percent } %

# Talking through the computer (issue 17): a separate question for the microphone.
ask-voice = { $who } просить поговорити з вами через комп'ютер.
ask-voice-detail = Ваш мікрофон буде увімкнено, і ви чутимете цю людину в динаміках. Ви можете вимкнути мікрофон будь-коли.
voice-bar = Триває розмова. Вас чує { $name }.
voice-bar-muted = Ваш мікрофон вимкнено. { $name } вас не чує.
voice-mute = Вимкнути мікрофон
voice-unmute = Увімкнути мікрофон
voice-hang-up = Завершити розмову
voice-ended = Розмову завершено. { $name } вас більше не чує.
voice-refused = Ви відмовилися від розмови. { $name } вас не чує.
voice-no-device = Мікрофон або динаміки не працюють на цьому комп'ютері. Говорити через нього не можна.
console-voice = Мікрофон: введіть mute, unmute або hangup і натисніть Enter.
