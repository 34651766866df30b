# Majibu ya kuingia, ukurasa wa mwanzo, akaunti yako na mwaliko, kwa Kiswahili.

## Sign-in answers
login-second-factor = Akaunti yako inatumia programu ya uthibitishaji. Andika nenosiri lako tena pamoja na msimbo wa tarakimu 6 unaoonyeshwa na programu sasa.
login-bad-code = Msimbo huo si sahihi au umeshatumika. Subiri msimbo unaofuata kisha ujaribu tena.
login-disabled = Akaunti hii imezimwa. Muulize mmiliki wa akaunti ya mkopeshaji wako.
login-throttled-wait = Majaribio mengi mno yameshindwa. Jaribu tena baada ya dakika { $minutes }.
login-form-expired = Fomu ilikuwa imepitwa na wakati, kwa hiyo hakuna kilichokaguliwa. Tafadhali jaribu tena.

## Start page
home-title = Karibu
home-welcome = Habari, { $name }. Chagua unapotaka kwenda.
home-link-account = Akaunti yako: nenosiri, programu ya uthibitishaji, vipindi
home-link-staff = Wafanyakazi na funguo za API

## Roles
role-owner = Mmiliki
role-agent = Wakala
role-viewer = Mtazamaji

## Own account
account-title = Akaunti yako
account-name = Jina
account-email = Barua pepe
account-role = Jukumu
account-back = Rudi kwenye akaunti yako
account-password-heading = Badilisha nenosiri lako
account-current-password = Nenosiri la sasa
account-new-password = Nenosiri jipya
account-confirm-password = Nenosiri jipya tena
account-password-submit = Badilisha nenosiri
account-password-changed = Nenosiri lako limebadilishwa. Vipindi vyako vingine vimekomeshwa.
account-password-wrong = Nenosiri la sasa si sahihi. Hakuna kilichobadilishwa.
account-changed-meanwhile = Akaunti yako ilibadilishwa wakati huohuo. Pakia ukurasa upya kisha ujaribu tena.
password-policy = Herufi 12 hadi 128, si herufi moja iliyorudiwa, na si barua pepe yako.
password-mismatch = Manenosiri mawili mapya hayafanani. Hakuna kilichobadilishwa.
password-same = Nenosiri jipya lazima liwe tofauti na la sasa.
account-totp-heading = Programu ya uthibitishaji (hatua ya pili)
account-totp-on = Imewashwa: kuingia kunahitaji nenosiri lako na msimbo kutoka kwa programu yako ya uthibitishaji.
account-totp-off = Imezimwa: kuingia kunahitaji nenosiri lako tu.
account-totp-start = Weka programu ya uthibitishaji
account-totp-code = Msimbo unaoonyeshwa na programu yako sasa
account-totp-disable = Zima programu ya uthibitishaji
account-totp-enabled = Programu ya uthibitishaji imewashwa. Kuanzia sasa, kuingia kunahitaji pia msimbo wake.
account-totp-disabled = Programu ya uthibitishaji imezimwa. Kuingia kunahitaji nenosiri lako tu.
account-totp-setup-title = Weka programu ya uthibitishaji
account-totp-scan = Changanua picha hii kwa programu yako ya uthibitishaji, au andika ufunguo ulio hapa chini ndani yake. Kisha andika msimbo unaoonyeshwa ili kuiwasha.
account-totp-qr-alt = Msimbo wa QR wa ufunguo wako wa uthibitishaji
account-totp-key = Ufunguo
account-totp-uri = Kiungo cha programu
account-totp-retry = Andika msimbo unaoonyeshwa na programu yako sasa. Ikiwa programu haina ufunguo, anza upya.
account-totp-confirm-code = Msimbo wa tarakimu 6 unaoonyeshwa na programu yako sasa
account-totp-confirm = Washa
account-totp-restart = Anza upya kwa ufunguo mpya
account-sessions-heading = Vipindi
account-logout-everywhere-hint = Toka kwenye kila simu na kompyuta ulipoingia, pamoja na hii.
logout-everywhere = Toka kila mahali

## Invitation link
invite-title = Chagua nenosiri lako
invite-intro = { $name }, umealikwa kwenye kituo cha { $lender }. Chagua nenosiri la { $email }.
invite-password = Nenosiri jipya
invite-otp = Msimbo unaoonyeshwa na programu yako ya uthibitishaji sasa
invite-submit = Hifadhi nenosiri na uingie
invite-invalid-title = Kiungo hiki hakiwezi kutumika
invite-invalid-body = Kimeshatumika, muda wake umeisha, au hakijawahi kuwepo. Muulize mmiliki wa akaunti ya mkopeshaji wako kiungo kipya.
invite-to-login = Nenda kuingia
