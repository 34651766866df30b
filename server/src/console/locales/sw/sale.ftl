# Kusajili mauzo (console/sale_new.html) na msimbo wake wa QR (console/sale_done.html). Kiswahili.

sale-title = Sajili mauzo
sale-plan-heading = Mpango wa malipo
sale-mode-monthly = Awamu kila mwezi
sale-monthly-hint = Mfano awamu 6 za 1,500 kila mwezi kuanzia tarehe ya kwanza ya kulipa.
sale-mode-table = Jedwali langu la tarehe na viasi
sale-add-rows = Ongeza mistari
sale-currency-hint = Msimbo wa ISO wa sarafu ya mpango, mfano KES, UGX, NGN.
sale-grace-hint = Siku baada ya tarehe ya kulipa kabla simu haijafungwa.
sale-imei-hint = Tarakimu 14 hadi 16 (piga *#06# kwenye simu). Inaruhusu simu kusajiliwa tena baada ya kurejesha mipangilio ya kiwandani.
sale-ref-hint = Namba yako ya mteja au ya mkataba, ili kupata kifaa baadaye.
sale-reprovision-hint = Inahitaji IMEI. Simu iliyorejeshwa inajisajili tena yenyewe.
sale-submit = Sajili mauzo
sale-done-title = Andaa simu
sale-qr-heading = Msimbo wa QR wa kuandaa simu
sale-qr-hint = Kwenye skrini ya kwanza ya simu mpya, gusa mara sita na uchanganue msimbo huu. Simu inajiandaa yenyewe na funguo za mkopeshaji wako.
sale-qr-alt = Msimbo wa QR wa kuandaa simu ya mauzo haya
sale-code-heading = Msimbo wa usajili wa mara moja
sale-code-hint = Simu ikiuomba, andika msimbo huu. Unafanya kazi mara moja tu.
sale-code-used = Simu ya mauzo haya imesajiliwa (au mauzo yamefungwa): hakuna msimbo wa kuonyesha.
sale-open-device = Fungua kifaa
sale-another = Sajili mauzo mengine
sale-error-imei-registered = IMEI hii tayari imesajiliwa kwa mojawapo ya vifaa vyako ambacho hakijaachiliwa.
sale-error-imei-taken = IMEI hii ni ya simu inayolipiwa kwingine. Inaweza kusajiliwa akaunti hiyo ikishaachiliwa.
