# Russian. Needs review by a native speaker from the sites.
window-title = Acote
language = Язык
connecting = Соединение…
connected = Соединено с { $site }.
retrying = Нет соединения. Новая попытка через { $secs } с.
code-title = Ваш код
give-code = Дайте этот код человеку, который вам помогает.
code-valid = Он действует 10 минут.
site = Помощь: { $site }
who-named = { $name } ({ $site })
who-anonymous = Кто-то из { $site }
ask-view = { $who } просит посмотреть ваш экран.
ask-view-detail = Этот человек сможет только смотреть. Нажимать и писать он не сможет.
question = Вы согласны?
allow = Да, разрешаю
refuse = Нет
countdown = { $secs ->
    [one] Осталась { $secs } секунда.
    [few] Осталось { $secs } секунды.
   *[other] Осталось { $secs } секунд.
}
no-answer-is-no = Нет ответа — значит «нет».
question-withdrawn = Вопрос отменён. Ничего не показано.
sharing-bar = Ваш экран видит { $name }.
stop-sharing = Остановить
ask-control = { $who } просит управлять вашей мышью и клавиатурой.
ask-control-detail = Вы можете вернуть управление в любой момент.
control-bar = { $name } управляет вашей мышью и клавиатурой.
take-back = Вернуть управление
hotkey-hint = Или нажмите { $keys }.
taken-back = Вы вернули управление. { $name } может только смотреть.
control-refused = { $name } может только смотреть на ваш экран.
ended-refused = Вы сказали «нет». Ничего не показано.
ended-no-answer = Нет ответа. Ничего не показано.
ended-peer-gone = Соединение потеряно. Показ остановлен.
ended-error = Техническая проблема остановила показ.
ended-ended = Показ завершён.
summary-view = Ваш экран был открыт для { $name } { $view }.
summary-view-control = Ваш экран был открыт для { $name } { $view }, управление — { $control }.
duration-minutes = { $n ->
    [one] { $n } минуту
    [few] { $n } минуты
   *[other] { $n } минут
}
duration-short = меньше минуты
keep-receipt = Сохранить квитанцию
receipt-saved = Квитанция сохранена: { $path }
receipt-failed = Не удалось сохранить квитанцию.
done = OK
receipt-title = Acote: квитанция
receipt-helper = Помощник: { $who }
receipt-date = Дата: { $date }
receipt-viewed = Просмотр экрана: { $view }
receipt-control = Управление: { $control }
receipt-no-control = Управление: не было
config-missing = Эта программа не настроена.
config-broken = Файл настроек этой программы повреждён.
relay-untrusted = Эта программа не может безопасно подключиться к службе помощи.
get-help = Покажите это окно на ресепшене.
close = Закрыть
console-yes-no = [y/n]
console-stop = Чтобы остановить: введите q и нажмите Enter.
console-take-back = Чтобы вернуть управление: введите s и нажмите Enter.

# The connection to the relay dropped during a session (resumption).
ended-connection-lost = Соединение не восстановилось в течение минуты. Показ остановлен.
interrupted = Соединение прервано. { $who } всё ещё видит ваш экран. Повторное подключение (не дольше минуты)…
interrupted-control = Соединение прервано. { $who } всё ещё видит ваш экран; чтобы пользоваться вашей мышью, нужно спросить снова. Повторное подключение (не дольше минуты)…
resumed = Соединение восстановлено. Ваш экран видит { $name }.

# Счётчик данных. $amount — уже записанный размер («2,4 МБ»).
data-used = Использовано данных: { $amount }
data-summary = За сеанс отправлено данных: { $amount }.
data-kb = { $n } КБ
data-mb = { $x } МБ

# The security code both people compare (read aloud by the caseworker).
security-code = Код безопасности: { $code }
security-code-help = Что это?
security-code-explained = Человек, который вам помогает, видит тот же код. Если он прочитает вам другой код, нажмите «Остановить»: кто-то может подслушивать.

# Переписка с тем, кто помогает (issue 17).
chat-button = Сообщения
chat-button-unread = Сообщения ({ $n })
chat-title = Сообщения: { $name }
chat-me = Вы
chat-empty = Сообщений пока нет. Здесь можно написать: { $name }.
chat-write = Ваше сообщение
chat-send = Отправить
chat-not-sent = Не отправлено. Напишите короче или подождите соединения.

# The caseworker used the resident's clipboard (only with control).
clipboard-read = { $name } прочитал(а) ваш буфер обмена.
clipboard-written = { $name } положил(а) текст в ваш буфер обмена.

# Files from and to the caseworker ($file is the file's name, $size e.g. "240 kB").
file-offered = { $name } отправляет вам { $file }, { $size }. Сохранить?
file-saved = { $file } сохранён в «Загрузках».
file-sent = { $file } отправлен: { $name }.
file-not-saved = { $file } не сохранён.
file-disk-full = Не удалось сохранить { $file }: диск заполнен.
file-not-sent = { $file } не отправлен.
# The files window.
files-button = Файлы
files-button-asking = Файлы ({ $n })
files-title = Файлы: { $name }
files-empty = Файлов пока нет. { $name } может прислать вам документ, и вы тоже можете отправить.
files-save = Сохранить
files-skip = Не сохранять
files-send = Отправить файл
files-open-folder = Открыть «Загрузки»
files-pick-title = Выберите файл для отправки
files-pick-empty = В «Загрузках», «Документах», на рабочем столе и в «Изображениях» файлов нет.
files-back = Назад
files-asking = Ждём вашего ответа.
files-receiving = Получение… { $percent } %
files-sending = Отправка… { $percent } %

# Talking through the computer (issue 17): a separate question for the microphone.
ask-voice = { $who } просит поговорить с вами через компьютер.
ask-voice-detail = Ваш микрофон будет включён, и вы будете слышать этого человека в динамиках. Вы можете выключить микрофон в любой момент.
voice-bar = Идёт разговор. Вас слышит { $name }.
voice-bar-muted = Ваш микрофон выключен. { $name } вас не слышит.
voice-mute = Выключить микрофон
voice-unmute = Включить микрофон
voice-hang-up = Завершить разговор
voice-ended = Разговор завершён. { $name } вас больше не слышит.
voice-refused = Вы отказались от разговора. { $name } вас не слышит.
voice-no-device = Микрофон или динамики не работают на этом компьютере. Говорить через него нельзя.
console-voice = Микрофон: введите mute, unmute или hangup и нажмите Enter.
