# Registrar una venta (console/sale_new.html) y su código QR (console/sale_done.html). Español.

sale-title = Registrar una venta
sale-plan-heading = Plan de pagos
sale-mode-monthly = Cuotas cada mes
sale-monthly-hint = Por ejemplo 6 cuotas de 1.500 cada mes desde el primer vencimiento.
sale-mode-table = Mi propia tabla de vencimientos e importes
sale-add-rows = Añadir filas
sale-currency-hint = El código ISO de la moneda del plan, p. ej. KES, UGX, NGN.
sale-grace-hint = Días tras un vencimiento antes de que el teléfono se bloquee.
sale-imei-hint = De 14 a 16 dígitos (marque *#06# en el teléfono). Permite que el teléfono se registre de nuevo tras un restablecimiento de fábrica.
sale-ref-hint = Su propio número de cliente o de contrato, para encontrar el dispositivo después.
sale-reprovision-hint = Necesita el IMEI. Un teléfono restablecido se registra de nuevo por sí solo.
sale-submit = Registrar la venta
sale-done-title = Configurar el teléfono
sale-qr-heading = Código QR de aprovisionamiento
sale-qr-hint = En la primera pantalla del teléfono nuevo, toque seis veces y escanee este código. El teléfono se configura con las claves de su prestamista.
sale-qr-alt = Código QR para configurar el teléfono de esta venta
sale-code-heading = Código de registro de un solo uso
sale-code-hint = Si el teléfono lo pide, escriba este código. Funciona una sola vez.
sale-code-used = El teléfono de esta venta ya se registró (o la venta está cerrada): no hay código que mostrar.
sale-open-device = Abrir el dispositivo
sale-another = Registrar otra venta
sale-error-imei-registered = Este IMEI ya está registrado en uno de sus dispositivos que no está liberado.
sale-error-imei-taken = Este IMEI pertenece a un teléfono financiado en otro lugar. Se podrá registrar cuando esa cuenta se libere.
