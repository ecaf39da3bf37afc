"""Polish translations of the demo knowledge base (see ``kb.demo_content``).

Same shape as ``kb.demo_content_ru.RUSSIAN``: the help-centre home, the KB index, the
categories (slug → (title, intro)) and the articles (slug → title, summary and body in
the body-item format described in ``kb.demo_content``). Image and document keys are the
English article's, so the translations show the same pictures and downloads.

It covers the same twelve articles as the Russian translation, one or more in every
category, and replaced the five-article set that ``kb.demo_content`` held before.
Style: instructions in the imperative, as in Polish software documentation; everything
else in impersonal forms (no "ty" address), with the vocabulary of the Polish catalogue
(``locale/pl``): "zgłoszenie", "zespół wsparcia", "baza wiedzy".
"""

from kb.demo_content import TOUR_VIDEO

POLISH = {
    "home": ("Centrum pomocy", "Jak możemy pomóc?"),
    "kb": ("Baza wiedzy", "Poradniki i odpowiedzi na pytania o Lumen."),
    "categories": {
        "getting-started": (
            "Pierwsze kroki",
            "Instalacja Lumen, zakładanie zespołu i synchronizacja pierwszego folderu.",
        ),
        "sync-and-sharing": (
            "Synchronizacja i udostępnianie",
            "Jak pliki trafiają na inne urządzenia i jak je bezpiecznie udostępniać.",
        ),
        "backup-and-restore": (
            "Kopie zapasowe i przywracanie",
            "Ochrona całych komputerów i przywracanie dowolnej wcześniejszej wersji.",
        ),
        "account-and-billing": (
            "Konto i płatności",
            "Plany, faktury, metody płatności i konto Lumen.",
        ),
        "security-and-privacy": (
            "Bezpieczeństwo i prywatność",
            "Logowanie dwuetapowe, szyfrowanie i kto co może zobaczyć.",
        ),
        "troubleshooting": (
            "Rozwiązywanie problemów",
            "Gdy synchronizacja stoi, urządzenie nie odpowiada lub coś wygląda nie tak.",
        ),
        "team-administration": (
            "Administracja zespołem",
            "Członkowie, role, limity miejsca i zasady dla właścicieli zespołów.",
        ),
    },
    "articles": {
        # --- Pierwsze kroki ----------------------------------------------------------
        "what-is-lumen": {
            "title": "Czym jest Lumen?",
            "summary": "Lumen utrzymuje te same pliki zespołu na każdym urządzeniu i przechowuje kopię każdej wersji tak długo, jak pozwala plan.",
            "body": [
                (
                    "p",
                    "Lumen to usługa synchronizacji i kopii zapasowych plików dla małych i średnich zespołów. Wystarczy wybrać foldery na komputerze, a Lumen przechowa ich kopię w chmurze Lumen i na każdym innym urządzeniu zalogowanym na to samo konto oraz zapamięta wcześniejsze wersje każdego pliku.",
                ),
                ("h", "Synchronizacja to nie to samo co kopia zapasowa"),
                (
                    "p",
                    "<b>Synchronizacja</b> sprawia, że folder wygląda wszędzie tak samo: zmiana wprowadzona na laptopie po kilku sekundach pojawia się na komputerze stacjonarnym. <b>Kopia zapasowa</b> przechowuje historię: nadpisany lub usunięty plik można przywrócić na przykład w wersji z zeszłego wtorku. Lumen robi jedno i drugie, a o tym, czego potrzeba, decyduje się osobno dla każdego folderu.",
                ),
                ("embed", TOUR_VIDEO),
                (
                    "info",
                    "<p>Pierwszy kontakt z Lumen? Najlepiej zacząć od artykułu <i>Instalacja Lumen na komputerze</i>, a potem przejść do <i>Synchronizacja pierwszego folderu</i>.</p>",
                ),
            ],
        },
        "install-lumen": {
            "title": "Instalacja Lumen na komputerze",
            "summary": "Aplikację Lumen dla Windows, macOS lub Linuksa wystarczy pobrać, zalogować się i wybrać, gdzie ma się znajdować folder Lumen.",
            "body": [
                (
                    "p",
                    "Aplikacja działa dyskretnie w tle i pokazuje swój stan w zasobniku systemowym (Windows i Linux) lub na pasku menu (macOS).",
                ),
                ("h", "Wymagania systemowe"),
                (
                    "table",
                    [
                        ["System", "Wersja minimalna", "Uwagi"],
                        [
                            "Windows",
                            "Windows 10 (64-bitowy)",
                            "ARM64 obsługiwany od Lumen 4.2",
                        ],
                        ["macOS", "macOS 12 Monterey", "Apple silicon i Intel"],
                        [
                            "Linux",
                            "Ubuntu 22.04, Debian 12, Fedora 39",
                            "Wymaga inotify; szczegóły w przewodniku po wierszu poleceń",
                        ],
                    ],
                    "Obsługiwane systemy",
                ),
                (
                    "steps",
                    [
                        (
                            "Pobierz instalator",
                            "<p>Wejdź na <code>lumen.example/download</code>; strona proponuje instalator właściwy dla danego systemu.</p>",
                        ),
                        (
                            "Uruchom go",
                            "<p>Na macOS przeciągnij Lumen do folderu Aplikacje; na Windows zezwól na wprowadzenie zmian.</p>",
                        ),
                        (
                            "Zaloguj się",
                            "<p>Użyj służbowego adresu e-mail. Jeśli zespół korzysta z logowania jednokrotnego, wybierz <b>Kontynuuj przez SSO</b>.</p>",
                        ),
                        (
                            "Wybierz lokalizację",
                            "<p>Zostaw domyślny folder <code>~/Lumen</code>, chyba że dysk z katalogiem domowym jest mały.</p>",
                        ),
                    ],
                ),
                (
                    "image",
                    "setup",
                    "Ostatni krok instalatora: wybór miejsca na folder Lumen.",
                ),
            ],
        },
        "sync-your-first-folder": {
            "title": "Synchronizacja pierwszego folderu",
            "summary": "Istniejący folder można dodać do Lumen, aby był taki sam na wszystkich urządzeniach.",
            "body": [
                (
                    "p",
                    "Wszystko, co znajduje się w folderze Lumen, synchronizuje się automatycznie. Folder położony gdzie indziej, na przykład <code>Dokumenty</code>, lepiej dodać w aplikacji, zamiast go przenosić.",
                ),
                (
                    "steps",
                    [
                        (
                            "Otwórz preferencje Lumen",
                            "<p>Kliknij ikonę Lumen, następnie koło zębate i <b>Preferencje</b>.</p>",
                        ),
                        (
                            "Wybierz Foldery",
                            "<p>Wybierz <b>Dodaj folder</b> i wskaż folder.</p>",
                        ),
                        (
                            "Poczekaj na pierwsze wysłanie",
                            "<p>Dopóki folder nie zostanie wysłany, ikona pokazuje obracającą się strzałkę. Przy wolnym łączu duże foldery mogą wysyłać się godzinami; w tym czasie można normalnie pracować.</p>",
                        ),
                    ],
                ),
                (
                    "tip",
                    "<p>Warto zacząć od małego folderu i zobaczyć, jak działa Lumen, zanim doda się zdjęcia z wielu lat.</p>",
                ),
            ],
        },
        # --- Synchronizacja i udostępnianie -------------------------------------------
        "how-sync-works": {
            "title": "Jak działa synchronizacja Lumen",
            "summary": "Lumen obserwuje foldery, wysyła tylko zmienione fragmenty plików i przekazuje je na pozostałe urządzenia.",
            "body": [
                (
                    "p",
                    "Po zapisaniu pliku system operacyjny powiadamia Lumen. Lumen dzieli plik na bloki, wysyła tylko te, które różnią się od poprzedniej wersji, i powiadamia pozostałe urządzenia, które pobierają te bloki i odtwarzają plik.",
                ),
                ("h", "Dlaczego drobne zmiany synchronizują się szybko"),
                (
                    "p",
                    "Zmiana jednego slajdu w prezentacji o rozmiarze 200 MB oznacza wysłanie kilku megabajtów, a nie całego pliku. Z tego samego powodu pierwsze wysłanie folderu trwa znacznie dłużej niż późniejsze zmiany.",
                ),
                (
                    "image",
                    "sync-diagram",
                    "Zmiana wędruje z laptopa do chmury Lumen, a stamtąd na komputer stacjonarny.",
                ),
            ],
        },
        "share-a-folder": {
            "title": "Udostępnianie folderu zespołowi",
            "summary": "Udostępnione foldery pojawiają się w folderze Lumen każdego członka zespołu i są synchronizowane dla wszystkich.",
            "body": [
                (
                    "p",
                    "Kliknij prawym przyciskiem folder w Lumen i wybierz <b>Udostępnij</b>. Wpisz imiona i nazwiska lub adresy e-mail współpracowników, wybierz <b>Może edytować</b> albo <b>Może wyświetlać</b> i wyślij.",
                ),
                ("h", "Co widzą inni"),
                (
                    "p",
                    "Folder pojawia się w ich folderze Lumen w ciągu minuty. Zmiany wprowadzone przez osoby z prawem edycji docierają do wszystkich; osoby z prawem wyświetlania dostają kopię tylko do odczytu.",
                ),
                (
                    "info",
                    "<p>Miejsce zajmowane przez udostępniony folder liczy się raz, w limicie zespołu, a nie osobno u każdego członka.</p>",
                ),
            ],
        },
        # --- Kopie zapasowe i przywracanie --------------------------------------------
        "restore-earlier-version": {
            "title": "Przywracanie wcześniejszej wersji pliku",
            "summary": "Historia wersji pozwala przywrócić każdą zapisaną wersję pliku z ostatnich 30, 180 lub 365 dni, zależnie od planu.",
            "body": [
                (
                    "p",
                    "Przy każdej zmianie pliku Lumen zachowuje poprzednią wersję. Aby je zobaczyć razem z datą i autorem każdej z nich, kliknij plik prawym przyciskiem i wybierz <b>Historia wersji</b>.",
                ),
                (
                    "steps",
                    [
                        (
                            "Otwórz historię wersji",
                            "<p>Kliknij plik prawym przyciskiem › <b>Historia wersji</b> albo otwórz go w przeglądarce.</p>",
                        ),
                        (
                            "Obejrzyj podgląd",
                            "<p>Kliknij wersję, aby ją obejrzeć bez wprowadzania zmian.</p>",
                        ),
                        (
                            "Przywróć",
                            "<p>Wybierz <b>Przywróć</b>. Bieżąca wersja trafia do historii, więc przywrócenie nigdy niczego nie niszczy.</p>",
                        ),
                    ],
                ),
                (
                    "table",
                    [
                        ["Plan", "Historia wersji"],
                        ["Starter", "30 dni"],
                        ["Business", "180 dni"],
                        ["Enterprise", "365 dni"],
                    ],
                    "Jak długo przechowywane są wersje",
                ),
            ],
        },
        "recover-deleted-files": {
            "title": "Odzyskiwanie usuniętych plików",
            "summary": "Usunięte pliki pozostają w koszu Lumen przez cały okres historii wersji i można je przywracać hurtowo.",
            "body": [
                (
                    "p",
                    "Otwórz stronę Lumen i wybierz <b>Usunięte pliki</b>. Listę można filtrować według folderu, daty i osoby, która usunęła pliki, co pomaga po przypadkowym usunięciu wielu plików naraz.",
                ),
                (
                    "tip",
                    "<p>W widoku <b>Usunięte pliki</b> można zaznaczyć cały folder i przywrócić go za jednym razem; Lumen odtworzy jego strukturę.</p>",
                ),
                (
                    "warning",
                    "<p>Pliki usunięte wcześniej, niż obejmuje historia wersji w danym planie, przepadają bezpowrotnie. W planie Enterprise właściciele zespołu mogą wydłużyć historię.</p>",
                ),
            ],
        },
        # --- Konto i płatności --------------------------------------------------------
        "change-payment-method": {
            "title": "Zmiana metody płatności",
            "summary": "Właściciele zespołu mogą zmienić kartę lub przejść na płatność na podstawie faktury na stronie Płatności.",
            "body": [
                (
                    "steps",
                    [
                        (
                            "Otwórz Płatności",
                            "<p>Na stronie Lumen wybierz nazwę zespołu › <b>Płatności</b>.</p>",
                        ),
                        (
                            "Metoda płatności",
                            "<p>Wybierz <b>Zmień</b> i podaj dane nowej karty. Poprzednia karta zostanie usunięta po najbliższym udanym obciążeniu.</p>",
                        ),
                    ],
                ),
                (
                    "info",
                    "<p>Plany roczne z ponad 20 stanowiskami można opłacać przelewem bankowym na podstawie faktury.</p>",
                ),
            ],
        },
        # --- Bezpieczeństwo i prywatność ----------------------------------------------
        "two-step-sign-in": {
            "title": "Włączanie logowania dwuetapowego",
            "summary": "Konto Lumen warto chronić aplikacją uwierzytelniającą, a kody odzyskiwania przechowywać w bezpiecznym miejscu.",
            "body": [
                (
                    "steps",
                    [
                        ("Otwórz Konto › Bezpieczeństwo", ""),
                        (
                            "Wybierz Skonfiguruj logowanie dwuetapowe",
                            "<p>Zeskanuj kod QR aplikacją uwierzytelniającą, na przykład w telefonie.</p>",
                        ),
                        (
                            "Wpisz sześciocyfrowy kod",
                            "<p>To potwierdza, że aplikacja została poprawnie skonfigurowana.</p>",
                        ),
                        (
                            "Zapisz kody odzyskiwania",
                            "<p>Wydrukuj je lub przechowuj w menedżerze haseł. Każdy kod działa tylko raz.</p>",
                        ),
                    ],
                ),
                (
                    "warning",
                    "<p>Bez telefonu i bez kodu odzyskiwania zespół wsparcia musi najpierw potwierdzić tożsamość właściciela konta, zanim będzie można się ponownie zalogować, a to wymaga czasu.</p>",
                ),
            ],
        },
        # --- Rozwiązywanie problemów --------------------------------------------------
        "sync-is-stuck": {
            "title": "Synchronizacja zatrzymała się na „Wysyłanie”",
            "summary": "Jeśli ikona od godzin pokazuje obracającą się strzałkę, warto sprawdzić, czy plik nie jest zablokowany, dysk pełny lub sieć wstrzymana.",
            "body": [
                (
                    "p",
                    "Większość zatrzymanych wysyłek ma jedną z trzech przyczyn. Najlepiej sprawdzić je w tej kolejności.",
                ),
                ("h", "Plik jest otwarty w innym programie"),
                (
                    "p",
                    "Niektóre programy, na przykład programy księgowe i bazy danych, blokują swoje pliki. Lumen czeka, aż blokada zostanie zwolniona. Zamknij program albo wyklucz jego folder z danymi.",
                ),
                ("h", "Dysk jest pełny"),
                (
                    "p",
                    "Lumen potrzebuje wolnego miejsca do odtwarzania plików. Na dysku powinno pozostać co najmniej 5% wolnego miejsca.",
                ),
                ("h", "Synchronizacja jest wstrzymana w tej sieci"),
                (
                    "p",
                    "W sieciach taryfowych Lumen sam się wstrzymuje. Można to sprawdzić poniższym poleceniem.",
                ),
                ("code", "bash", "lumen status --verbose"),
                (
                    "tip",
                    "<p>Nadal nie działa? Prosimy dołączyć wynik polecenia <code>lumen status --verbose</code> do zgłoszenia wysłanego do zespołu wsparcia.</p>",
                ),
            ],
        },
        "app-will-not-start": {
            "title": "Lumen się nie uruchamia",
            "summary": "Należy uruchomić komputer ponownie, a potem zainstalować aplikację jeszcze raz; pliki i ustawienia zostaną zachowane.",
            "body": [
                (
                    "p",
                    "Nieudana aktualizacja może sprawić, że aplikacja przestanie się uruchamiać. Ponowna instalacja na istniejącą wersję jest bezpieczna: nigdy nie narusza folderu Lumen.",
                ),
                (
                    "code",
                    "powershell",
                    '# Windows: zbierz logi przed ponowną instalacją\nlumen logs --zip "$env:USERPROFILE\\Desktop\\lumen-logs.zip"',
                ),
                (
                    "p",
                    "Jeśli problem wróci, prosimy dołączyć plik zip do zgłoszenia.",
                ),
            ],
        },
        # --- Administracja zespołem ---------------------------------------------------
        "invite-members": {
            "title": "Zapraszanie osób do zespołu",
            "summary": "Administratorzy zapraszają członków e-mailem; zaproszona osoba otrzymuje stanowisko, gdy tylko przyjmie zaproszenie.",
            "body": [
                (
                    "steps",
                    [
                        (
                            "Otwórz konsolę administracyjną",
                            "<p>Wybierz nazwę zespołu › <b>Konsola administracyjna</b> › <b>Członkowie</b>.</p>",
                        ),
                        (
                            "Zaproś",
                            "<p>Wpisz jeden lub więcej adresów e-mail, oddzielonych przecinkami.</p>",
                        ),
                        (
                            "Wybierz rolę",
                            "<p>Członek, Administrator lub Administrator płatności; rolę można później zmienić.</p>",
                        ),
                    ],
                ),
                (
                    "tip",
                    "<p>Po włączeniu opcji <b>Automatyczne dołączanie</b> każda osoba z adresem e-mail w domenie firmy może dołączyć bez zaproszenia.</p>",
                ),
            ],
        },
    },
}
