# Ukurasa wa kifaa (console/device.html), uthibitisho wake, maneno ya fomu za kifaa
# (sehemu, makatao) na onyesho la skrini ya simu. Kiswahili.

device-title = Kifaa
device-facts-heading = Taarifa
device-state = Hali
device-days-past-due = Siku za kuchelewa
device-next-due = Tarehe ijayo ya kulipa
device-amount-due = Kiasi kinachodaiwa sasa
device-paid = Kilicholipwa
device-total = Jumla ya mpango
device-lock-at = Kitafungwa (kisipolipwa)
device-extended-until = Muda umeongezwa hadi
device-release-at = Kitaachiliwa tarehe (kinakamilika)
device-lock-reason = Sababu ya kufunga kwako
device-enrolled = Simu
device-last-checkin = Mawasiliano ya mwisho
device-app-version = Toleo la programu
device-customer-ref = Kumbukumbu ya mteja
device-imei = IMEI wakati wa mauzo
device-auto-reprovision = Kusajili upya kiotomatiki
device-registered = Ilisajiliwa
device-none = hakuna
device-enrolled-yes = Imesajiliwa
device-enrolled-on = Imesajiliwa tarehe { $date }
device-enrolled-no = Bado haijasajiliwa
device-on = Imewashwa
device-off = Imezimwa
device-imei-yes = Imesajiliwa
device-imei-none = Haijasajiliwa

## Hali na awamu
state-current = Iko sawa
state-overdue = Imechelewa
state-locked = Imefungwa
state-completing = Imelipwa kikamilifu, inakamilika
state-released = Imeachiliwa
device-plan-heading = Mpango na awamu
installment-due-date = Tarehe ya kulipa
installment-amount = Kiasi
installment-status = Hali
installment-paid = Imelipwa
installment-due = Inadaiwa
installment-overdue = Imechelewa

## Malipo
payments-heading = Malipo
payments-none = Bado hakuna malipo yaliyorekodiwa.
payment-voided-on = Yalibatilishwa tarehe { $date }: { $text }
void-reason = Sababu ya kubatilisha malipo haya
void-submit = Batilisha…
payment-form-heading = Rekodi malipo
payment-amount = Kiasi ({ $currency })
payment-amount-hint = Kama kwenye risiti, mfano 1,500 au 1,500.50.
payment-reference = Kumbukumbu
payment-reference-hint = Namba ya risiti au ya muamala (mfano msimbo wa M-Pesa). Malipo moja kwa kila kumbukumbu.
payment-allow-overpayment = Rekodi hata hivyo: kiasi ni zaidi ya kinachodaiwa
payment-submit = Rekodi malipo
payment-error-overpayment = Kiasi hiki ni zaidi ya kinachodaiwa bado. Hakiki kiasi; kama ni sahihi, weka alama "Rekodi hata hivyo" na utume tena.
payment-error-duplicate-reference = Malipo yenye kumbukumbu hii tayari yamerekodiwa kwa kifaa hiki.

## Vitendo
actions-heading = Vitendo
actions-hint = Kila kitendo kinakuomba ukithibitishe. Simu inakijua inapowasiliana tena.
lock-heading = Funga simu
lock-reason = Sababu (mteja anaiona kwenye skrini ya kufunga)
lock-reason-hint = Hadi herufi 350. Mwandikie mteja: inaonyeshwa kama "Ujumbe kutoka" jina lako.
lock-submit = Funga…
unlock-heading = Ondoa kufunga kwako
unlock-hint = Inaondoa kufunga ulikoweka wewe. Simu iliyofungwa kwa awamu iliyochelewa inabaki imefungwa hadi ilipwe au iongezewe muda.
unlock-submit = Fungua…
extend-heading = Ongeza muda (ahadi ya kulipa)
extend-until = Isifungwe kabla ya mwisho wa
extend-until-hint = Si zaidi ya siku 90 kuanzia leo.
extend-reason = Sababu (mfano ahadi aliyotoa mteja)
extend-submit = Ongeza muda…
release-heading = Achilia kabisa
release-hint = Inaondoa vizuizi vyote kwenye simu milele. Haiwezi kutenduliwa.
release-submit = Achilia…

## Uthibitisho
confirm-title = Tafadhali thibitisha
confirm-cancel = Ghairi, usibadilishe chochote
confirm-reason = Sababu: { $text }
confirm-reference = Kumbukumbu: { $text }
confirm-lock = Ufunge kifaa { $name }?
confirm-lock-effect = Simu inafungwa inapowasiliana tena na inaonyesha sababu yako kwenye skrini ya kufunga. Simu za dharura na kukupigia wewe zinaendelea kufanya kazi.
confirm-lock-button = Ndiyo, funga
confirm-unlock = Uondoe kufunga kwako kwenye kifaa { $name }?
confirm-unlock-effect = Simu inafunguka inapowasiliana tena, isipokuwa kama awamu imechelewa.
confirm-unlock-button = Ndiyo, fungua
confirm-extend = Uongeze muda wa kufunga hadi { $date }?
confirm-extend-effect = Simu haifungwi kwa kiasi hiki kilichochelewa kabla ya hapo.
confirm-extend-button = Ndiyo, ongeza muda
confirm-release = Uachilie kifaa { $name } kabisa?
confirm-release-effect = Vizuizi vyote vinaondolewa simu inapowasiliana tena. Hili haliwezi kutenduliwa.
confirm-release-button = Ndiyo, achilia
confirm-void = Ubatilishe malipo ya { $amount }?
confirm-void-effect = Malipo hayahesabiwi tena. Kama awamu itakuwa imechelewa, simu inafungwa tena inapowasiliana.
confirm-void-button = Ndiyo, batilisha

## Kilichofanyika
device-done-payment = Malipo yamerekodiwa.
device-done-voided = Malipo yamebatilishwa.
device-done-locked = Kufunga kumewekwa. Simu inafungwa inapowasiliana tena.
device-done-unlocked = Kufunga kwako kumeondolewa.
device-done-extended = Muda umeongezwa.
device-done-released = Kifaa kimeachiliwa kabisa.

## Makatao na sehemu
device-error-released = Kifaa hiki kimeachiliwa kabisa; hili haliwezi kufanyika tena.
device-error-not-lender-locked = Simu hii haina kufunga kwako kwa kuondoa. Kama imefungwa kwa awamu iliyochelewa, rekodi malipo au ongeza muda.
device-error-lender-locked = Simu hii imefungwa na wewe. Ondoa kufunga kwako kwanza.
device-error-not-enrolled = Simu hii bado haijasajiliwa.
device-error-concurrent = Kifaa kilibadilika wakati huo huo. Pakia ukurasa upya ujaribu tena.
device-error-conflict = Hili haliwezi kufanyika katika hali ya sasa ya kifaa.
device-error-until = Tarehe lazima iwe baada ya kufunga kwa sasa na isizidi siku 90 kuanzia leo.
error-field-invalid = Tafadhali hakiki sehemu "{ $field }": thamani yake haikubaliki.
field-amount = Kiasi
field-reference = Kumbukumbu
field-reason = Sababu
field-until = Tarehe
field-currency = Sarafu
field-grace-days = Siku za nyongeza
field-imei = IMEI (si lazima)
field-customer-ref = Kumbukumbu ya mteja (si lazima)
field-challenge = Msimbo wa ombi (tarakimu 8)
field-days = Siku za kufunguliwa
field-due-date = Tarehe ya kulipa
field-installments = Awamu
field-form = Fomu
field-count = Idadi ya awamu
field-installment-amount = Kiasi cha kila awamu
field-first-due = Tarehe ya kwanza ya kulipa
field-row-due = Tarehe ya kulipa katika mstari wa { $row }
field-row-amount = Kiasi katika mstari wa { $row }
field-auto-reprovision = Ruhusu kusajili upya kiotomatiki baada ya kurejesha mipangilio ya kiwandani

## Historia
timeline-heading = Historia
actor-staff-unknown = mfanyakazi wa zamani
actor-api-key = ufunguo wa API { $name }
actor-api = API
actor-cli = amri za seva
actor-device = simu
actor-system = finlock (kiotomatiki)
audit-registered = Mauzo yamesajiliwa
audit-enrolled = Simu imesajiliwa
audit-enrolled-attested = Simu imesajiliwa (imethibitishwa)
audit-enrollment-answered-again = Usajili umejibiwa tena
audit-enrollment-retried = Usajili umejaribiwa tena
audit-enrolled-with-reissued-code = Simu imesajiliwa kwa msimbo mpya
audit-reprovisioned = Simu imesajiliwa upya
audit-reprovisioned-attested = Simu imesajiliwa upya (imethibitishwa)
audit-payment = Malipo yamerekodiwa
audit-payment-voided = Malipo yamebatilishwa
audit-completing = Imelipwa kikamilifu: inakamilika
audit-released = Imeachiliwa
audit-locked = Imefungwa
audit-unlocked = Imefunguliwa
audit-extended = Muda umeongezwa
audit-offline-code-issued = Msimbo wa kufungua umetolewa
audit-offline-code-used = Msimbo wa kufungua umetumika kwenye simu
audit-enrollment-code-reissued = Msimbo mpya wa usajili
audit-seq-caught-up = Simu imefikia hali baada ya kurejesha nakala
audit-enrollment-approved = Ombi la usajili limekubaliwa
audit-enrollment-refused = Ombi la usajili limekataliwa
audit-rescheduled = Mpango umepangwa upya
audit-auto-reprovision-set = Kusajili upya kiotomatiki kumebadilishwa
audit-cancelled = Mauzo yameghairiwa

## Miezi (tarehe huandikwa "14 Machi 2026")
month-1 = Januari
month-2 = Februari
month-3 = Machi
month-4 = Aprili
month-5 = Mei
month-6 = Juni
month-7 = Julai
month-8 = Agosti
month-9 = Septemba
month-10 = Oktoba
month-11 = Novemba
month-12 = Desemba

## Skrini ya simu: maneno ya programu yenyewe (android-app/src/main/res/values-sw/strings.xml)
preview-heading = Anachokiona mteja
preview-hint = Skrini ya simu itakavyokuwa baada ya kuwasiliana tena, kwa lugha iliyochaguliwa hapa.
phone-lock-title = Kifaa hiki kimefungwa
phone-reason-overdue-payment = Kifaa hiki kimefungwa kwa sababu ya malipo ya awamu yaliyochelewa.
phone-reason-lender-request = Mkopeshaji wako amefunga kifaa hiki. Tafadhali wasiliana naye.
phone-reason-offline = Unganisha kwenye intaneti ili kuthibitisha akaunti yako. Kifaa hiki hakijaweza kuthibitisha kwa muda mrefu mno.
phone-reason-clock-suspect = Angalia tarehe na saa, kisha unganisha kwenye intaneti. Tarehe ya kifaa hiki inaonekana si sahihi.
phone-lender-name = Mkopeshaji: { $name }
phone-amount-due = Kiasi kinachodaiwa: { $amount }
phone-due-date = Tarehe ya mwisho ya kulipa: { $date }
phone-lender-message = Ujumbe kutoka { $name }: { $text }
phone-payment-instructions = Jinsi ya kulipa: { $text }
phone-emergency-call = Simu ya dharura
phone-call-lender = Mpigie mkopeshaji { $phone }
phone-pay-now = Lipa sasa
phone-check-now = Nimelipa — angalia sasa
phone-enter-code = Weka msimbo wa kufungua
phone-account-title = Mpango wako wa malipo
phone-account-ok = Akaunti yako iko katika hali nzuri.
phone-account-completing = Umelipa kikamilifu. Tarehe { $date }, simu hii ikiunganishwa, itakuwa yako na vizuizi vyote vitaondolewa.
phone-account-not-enrolled = Kifaa hiki bado hakijasajiliwa.
phone-released-title = Umelipa kikamilifu
phone-released-text = Hongera! Kifaa hiki ni chako. Vizuizi vyote vimeondolewa.
