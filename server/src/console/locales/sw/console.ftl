# Kituo cha mkopeshaji, Kiswahili. Maneno ya pamoja (kufungwa, malipo, msimbo wa
# kufungua) ni yale ya programu ya simu (android-app/src/main/res/values-sw).

console-name = Kituo cha mkopeshaji
skip-to-content = Ruka hadi maudhui makuu

## Kichwa na menyu
nav-label = Menyu kuu
nav-dashboard = Muhtasari
nav-devices = Vifaa
nav-register-sale = Sajili mauzo
nav-unlock-codes = Misimbo ya kufungua
nav-import = Ingiza kutoka faili
nav-staff-keys = Wafanyakazi na funguo
header-lender = Mkopeshaji: { $name }
header-staff = Umeingia kama { $name }
logout = Toka

## Kuchagua lugha
language-label = Lugha
language-submit = Badilisha lugha
language-name-en = English
language-name-sw = Kiswahili
language-name-es = Español

## Ukurasa wa kuingia
login-title = Ingia
login-intro = Ingia kwa akaunti yako ya mfanyakazi. Kama huna, omba mwaliko kutoka kwa mmiliki wa akaunti ya mkopeshaji wako.
login-email = Anwani ya barua pepe
login-password = Nenosiri
login-otp = Msimbo wa mara moja (si lazima)
login-otp-hint = Ikiwa tu akaunti yako inatumia programu ya uthibitishaji: tarakimu 6 inazoonyesha sasa.
login-submit = Ingia
login-failed = Barua pepe, nenosiri au msimbo wa mara moja si sahihi.
login-throttled = Majaribio mengi mno. Tafadhali subiri dakika chache kisha ujaribu tena.

## Kurasa za hitilafu
not-found-title = Ukurasa haupatikani
not-found-body = Hakuna ukurasa kwenye anwani hii, au ni wa mkopeshaji mwingine.
not-found-home = Nenda kwenye ukurasa wa mwanzo
bad-request-title = Ombi hili halikuweza kusomwa
bad-request-body = Fomu iliyotumwa haikukamilika au si sahihi. Rudi nyuma ujaribu tena.
forbidden-title = Hairuhusiwi
forbidden-body = Ombi hili lilitoka kwenye tovuti nyingine, kwa hivyo hakuna kilichofanywa.
not-allowed-title = Jukumu lako haliruhusu hili
not-allowed-body = Jukumu lako haliruhusu kitendo hiki. Ikiwa unakihitaji, mwombe mmiliki wa akaunti ya mkopeshaji wako.
form-expired-title = Muda wa fomu hii umekwisha
form-expired-body = Hakuna kilichobadilishwa. Rudi nyuma, pakia upya ukurasa kisha utume fomu tena.
error-title = Hitilafu imetokea
error-body = Seva haikuweza kuonyesha ukurasa huu. Tafadhali jaribu tena baadaye; ikiendelea, mjulishe msimamizi wako.
