# La página de un dispositivo (console/device.html), sus confirmaciones, las palabras que
# comparten los formularios de dispositivos (campos, rechazos) y la vista previa de la
# pantalla del teléfono. Español.

device-title = Dispositivo
device-facts-heading = Datos
device-state = Estado
device-days-past-due = Días de atraso
device-next-due = Próximo vencimiento
device-amount-due = Importe a pagar ahora
device-paid = Pagado
device-total = Importe total del plan
device-lock-at = Se bloquea el (si no paga)
device-extended-until = Prórroga hasta
device-release-at = Se libera el (completándose)
device-lock-reason = Motivo de su bloqueo
device-enrolled = Teléfono
device-last-checkin = Última conexión
device-app-version = Versión de la app
device-customer-ref = Referencia del cliente
device-imei = IMEI en la venta
device-auto-reprovision = Reaprovisionamiento automático
device-registered = Registrado
device-none = ninguno
device-enrolled-yes = Registrado
device-enrolled-on = Registrado el { $date }
device-enrolled-no = Aún no registrado
device-on = Activado
device-off = Desactivado
device-imei-yes = Registrado
device-imei-none = No registrado

## Estados y cuotas
state-current = Al día
state-overdue = Atrasado
state-locked = Bloqueado
state-completing = Pagado por completo, completándose
state-released = Liberado
device-plan-heading = Plan y cuotas
installment-due-date = Vencimiento
installment-amount = Importe
installment-status = Estado
installment-paid = Pagada
installment-due = Pendiente
installment-overdue = Vencida

## Pagos
payments-heading = Pagos
payments-none = Aún no hay pagos registrados.
payment-voided-on = Anulado el { $date }: { $text }
void-reason = Motivo para anular este pago
void-submit = Anular…
payment-form-heading = Registrar un pago
payment-amount = Importe ({ $currency })
payment-amount-hint = Como en el recibo, p. ej. 1.500 o 1.500,50.
payment-reference = Referencia
payment-reference-hint = El número de recibo o de transacción (por ejemplo el código de M-Pesa). Un pago por referencia.
payment-allow-overpayment = Registrarlo de todos modos: el importe supera lo adeudado
payment-submit = Registrar pago
payment-error-overpayment = Este importe es mayor que lo que aún se debe. Revise el importe; si es correcto, marque "Registrarlo de todos modos" y envíe de nuevo.
payment-error-duplicate-reference = Ya hay un pago con esta referencia registrado para este dispositivo.

## Acciones
actions-heading = Acciones
actions-hint = Cada acción le pide confirmación. El teléfono se entera en su próxima conexión.
lock-heading = Bloquear el teléfono
lock-reason = Motivo (el cliente lo ve en la pantalla de bloqueo)
lock-reason-hint = Hasta 350 caracteres. Escríbalo para el cliente: se muestra como "Mensaje de" su nombre.
lock-submit = Bloquear…
unlock-heading = Quitar su bloqueo
unlock-hint = Quita el bloqueo que usted puso. Un teléfono bloqueado por una cuota vencida sigue bloqueado hasta que se pague o se prorrogue.
unlock-submit = Desbloquear…
extend-heading = Prorrogar (promesa de pago)
extend-until = No bloquear antes del final del día
extend-until-hint = Como máximo 90 días desde hoy.
extend-reason = Motivo (por ejemplo la promesa que hizo el cliente)
extend-submit = Prorrogar…
release-heading = Liberar para siempre
release-hint = Quita todas las restricciones del teléfono para siempre. No se puede deshacer.
release-submit = Liberar…

## Confirmaciones
confirm-title = Confirme, por favor
confirm-cancel = Cancelar, no cambiar nada
confirm-reason = Motivo: { $text }
confirm-reference = Referencia: { $text }
confirm-lock = ¿Bloquear el dispositivo { $name }?
confirm-lock-effect = El teléfono se bloquea en su próxima conexión y muestra su motivo en la pantalla de bloqueo. Las llamadas de emergencia y las llamadas a usted siguen funcionando.
confirm-lock-button = Sí, bloquearlo
confirm-unlock = ¿Quitar su bloqueo del dispositivo { $name }?
confirm-unlock-effect = El teléfono se desbloquea en su próxima conexión, salvo que haya una cuota vencida.
confirm-unlock-button = Sí, desbloquearlo
confirm-extend = ¿Prorrogar el bloqueo hasta el { $date }?
confirm-extend-effect = El teléfono no se bloquea por este importe vencido antes de esa fecha.
confirm-extend-button = Sí, prorrogar
confirm-release = ¿Liberar el dispositivo { $name } para siempre?
confirm-release-effect = Todas las restricciones se quitan en la próxima conexión del teléfono. No se puede deshacer.
confirm-release-button = Sí, liberarlo
confirm-void = ¿Anular el pago de { $amount }?
confirm-void-effect = El pago deja de contar. Si entonces hay una cuota vencida, el teléfono se bloquea de nuevo en su próxima conexión.
confirm-void-button = Sí, anularlo

## Lo que pasó
device-done-payment = El pago está registrado.
device-done-voided = El pago está anulado.
device-done-locked = El bloqueo está puesto. El teléfono se bloquea en su próxima conexión.
device-done-unlocked = Su bloqueo está quitado.
device-done-extended = La prórroga está puesta.
device-done-released = El dispositivo está liberado para siempre.

## Rechazos y campos
device-error-released = Este dispositivo está liberado para siempre; esto ya no se puede hacer.
device-error-not-lender-locked = Este teléfono no tiene ningún bloqueo suyo que quitar. Si está bloqueado por una cuota vencida, registre el pago o prorrogue.
device-error-lender-locked = Este teléfono está bloqueado por usted. Quite primero su bloqueo.
device-error-not-enrolled = Este teléfono aún no se ha registrado.
device-error-concurrent = El dispositivo cambió en ese mismo momento. Recargue la página e inténtelo de nuevo.
device-error-conflict = Esto no se puede hacer en el estado actual del dispositivo.
device-error-until = La fecha debe ser posterior al bloqueo actual y como máximo 90 días desde hoy.
error-field-invalid = Revise el campo "{ $field }": su valor no se acepta.
field-amount = Importe
field-reference = Referencia
field-reason = Motivo
field-until = Fecha
field-currency = Moneda
field-grace-days = Días de gracia
field-imei = IMEI (opcional)
field-customer-ref = Referencia del cliente (opcional)
field-challenge = Código de solicitud (8 dígitos)
field-days = Días desbloqueado
field-due-date = Fecha de vencimiento
field-installments = Cuotas
field-form = Formulario
field-count = Número de cuotas
field-installment-amount = Importe de cada cuota
field-first-due = Primer vencimiento
field-row-due = Vencimiento en la fila { $row }
field-row-amount = Importe en la fila { $row }
field-auto-reprovision = Permitir el reaprovisionamiento automático tras un restablecimiento de fábrica

## Historial
timeline-heading = Historial
actor-staff-unknown = un antiguo miembro del personal
actor-api-key = clave de API { $name }
actor-api = la API
actor-cli = la línea de comandos del servidor
actor-device = el teléfono
actor-system = finlock (automático)
audit-registered = Venta registrada
audit-enrolled = Teléfono registrado
audit-enrolled-attested = Teléfono registrado (certificado)
audit-enrollment-answered-again = Registro respondido de nuevo
audit-enrollment-retried = Registro reintentado
audit-enrolled-with-reissued-code = Teléfono registrado con un código nuevo
audit-reprovisioned = Teléfono reaprovisionado
audit-reprovisioned-attested = Teléfono reaprovisionado (certificado)
audit-payment = Pago registrado
audit-payment-voided = Pago anulado
audit-completing = Pagado por completo: completándose
audit-released = Liberado
audit-locked = Bloqueado
audit-unlocked = Desbloqueado
audit-extended = Prorrogado
audit-offline-code-issued = Código de desbloqueo entregado
audit-offline-code-used = Código de desbloqueo usado en el teléfono
audit-enrollment-code-reissued = Nuevo código de registro
audit-seq-caught-up = El teléfono se puso al día tras una restauración
audit-enrollment-approved = Solicitud de registro aprobada
audit-enrollment-refused = Solicitud de registro rechazada
audit-rescheduled = Plan reprogramado
audit-auto-reprovision-set = Reaprovisionamiento automático cambiado
audit-cancelled = Venta cancelada

## Meses (las fechas se escriben "14 de marzo de 2026")
month-1 = enero
month-2 = febrero
month-3 = marzo
month-4 = abril
month-5 = mayo
month-6 = junio
month-7 = julio
month-8 = agosto
month-9 = septiembre
month-10 = octubre
month-11 = noviembre
month-12 = diciembre

## La pantalla del teléfono: las palabras de la propia app (android-app/src/main/res/values-es/strings.xml)
preview-heading = Lo que ve el cliente
preview-hint = La pantalla del teléfono tal como queda tras su próxima conexión, en el idioma elegido aquí.
phone-lock-title = Este dispositivo está bloqueado
phone-reason-overdue-payment = Este dispositivo está bloqueado por un pago de cuota vencido.
phone-reason-lender-request = Tu prestamista ha bloqueado este dispositivo. Ponte en contacto con tu prestamista.
phone-reason-offline = Conéctate a internet para verificar tu cuenta. Este dispositivo lleva demasiado tiempo sin poder comprobarla.
phone-reason-clock-suspect = Revisa la fecha y la hora y luego conéctate a internet. La fecha de este dispositivo parece incorrecta.
phone-lender-name = Prestamista: { $name }
phone-amount-due = Cantidad a pagar: { $amount }
phone-due-date = Fecha de vencimiento: { $date }
phone-lender-message = Mensaje de { $name }: { $text }
phone-payment-instructions = Cómo pagar: { $text }
phone-emergency-call = Llamada de emergencia
phone-call-lender = Llamar al prestamista { $phone }
phone-pay-now = Pagar ahora
phone-check-now = Ya pagué — comprobar ahora
phone-enter-code = Introducir código de desbloqueo
phone-account-title = Tu plan de pago
phone-account-ok = Tu cuenta está al día.
phone-account-completing = Pagado por completo. El { $date }, cuando se conecte, este teléfono será tuyo y se quitarán todas las restricciones.
phone-account-not-enrolled = Este dispositivo aún no está registrado.
phone-released-title = Pagado por completo
phone-released-text = ¡Felicidades! Este dispositivo es tuyo. Se han quitado todas las restricciones.
