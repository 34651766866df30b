# Dawati la misimbo ya kufungua (console/codes.html). Kiswahili.

codes-title = Misimbo ya kufungua
codes-intro = Kwa mteja ambaye simu yake imefungwa na hana intaneti: anakusomea msimbo wa ombi ulio kwenye skrini yake ya kufunga, nawe unampa msimbo wa kufungua.
codes-device = Kitambulisho cha kifaa au kumbukumbu ya mteja
codes-device-hint = Kitambulisho cha kifaa, au kumbukumbu yako ya mteja kama kifaa kimoja tu kinayo.
codes-challenge-hint = Tarakimu 8 zilizo kwenye skrini ya kufunga ya mteja ("Msimbo wako wa ombi").
codes-submit = Pata msimbo wa kufungua
codes-answer-heading = Msimbo wa kufungua wa { $name }
codes-answer-days = Msomee mteja. Unafungua simu kwa { $text }.
codes-day-one = siku 1
codes-days-other = siku { $days }
codes-error-several = Vifaa kadhaa vina kumbukumbu hii ya mteja. Chagua kimoja na utumie kitambulisho chake:
codes-error-no-device = Hakuna kifaa chako chenye kitambulisho au kumbukumbu hii.
codes-error-challenge = Tarakimu hizi si msimbo wa ombi wa sasa wa simu hii. Mwombe mteja azisome tena.
