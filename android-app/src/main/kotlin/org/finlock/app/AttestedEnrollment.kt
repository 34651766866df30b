package org.finlock.app

import android.app.admin.DevicePolicyManager
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import android.util.Log
import org.finlock.core.AttestationProof
import org.finlock.core.FinlockException
import java.security.GeneralSecurityException
import java.security.ProviderException
import java.security.Signature
import java.security.spec.ECGenParameterSpec

/**
 * Hardware proof for an enrollment by IMEI (issue 12, PROTOCOL §3.1, ADR 0011): after a
 * factory reset the preloaded app comes back to its lender without the customer's help, but
 * only a genuine phone with that IMEI may. As Device Owner the shell has the Keystore make a
 * key whose attestation chain carries the server's challenge and the phone's attested
 * identifiers (base info, serial, IMEI), has that key sign the bytes the core binds its own
 * enrollment key with, and hands chain and signature to the core's `requestEnrollment`.
 *
 * Every way this can fail — no Device Owner, no ID attestation on this phone, the Keystore
 * refusing — ends in no proof: the enrollment is sent without, and waits for the lender's
 * approval. The server never says why a proof was not enough (no oracle), so neither can we.
 *
 * Only the Device Owner can ask for ID attestation through the public SDK. A preloaded
 * privileged app that is not the owner would need `KeyGenParameterSpec.Builder
 * .setAttestationIds` (a system API, with READ_PRIVILEGED_PHONE_STATE): such a build enrolls
 * without proof, through the lender's approval.
 */
object AttestedEnrollment {
    private const val TAG = "finlock"

    /** One key per try, deleted as soon as it has signed (it proves one challenge, once). */
    const val KEY_ALIAS = "org.finlock.enrollment.attestation"

    /** `KeyProperties.KEY_ALGORITHM_EC`: P-256 with SHA-256 is what the server expects. */
    const val ALGORITHM = KeyProperties.KEY_ALGORITHM_EC
    const val SIGNATURE_ALGORITHM = "SHA256withECDSA"

    /**
     * The identifiers in the attestation: base info (brand, device, product, manufacturer,
     * model), serial and IMEI — the server matches the IMEI's hash. Never
     * `ID_TYPE_INDIVIDUAL_ATTESTATION` (a certificate unique to this phone, which the
     * protocol does not need) and never MEID.
     */
    const val ID_FLAGS =
        DevicePolicyManager.ID_TYPE_BASE_INFO or DevicePolicyManager.ID_TYPE_SERIAL or DevicePolicyManager.ID_TYPE_IMEI

    /** A signing key on the P-256 curve whose attestation carries [challenge]. */
    fun keySpec(challenge: ByteArray): KeyGenParameterSpec =
        KeyGenParameterSpec.Builder(KEY_ALIAS, KeyProperties.PURPOSE_SIGN)
            .setAlgorithmParameterSpec(ECGenParameterSpec("secp256r1"))
            .setDigests(KeyProperties.DIGEST_SHA256)
            .setAttestationChallenge(challenge)
            .build()

    /**
     * The proof for a fresh challenge, or null when this phone cannot give one (then the
     * enrollment goes without and waits for the lender's approval). Network: asks the
     * lender's server for a challenge (call it in the shell's [ShellDeps.scope]); a network
     * failure there is thrown, so the enrollment is retried as a whole. The key generation
     * may take seconds (Keystore, sometimes StrongBox): never on the main thread.
     */
    suspend fun prove(core: CoreGateway, dpm: DpmGateway): AttestationProof? {
        if (!dpm.isDeviceOwner()) {
            Log.i(TAG, "attested enrollment: not the device owner, enrolling without proof")
            return null
        }
        if (!dpm.isDeviceIdAttestationSupported()) {
            Log.i(TAG, "attested enrollment: no device ID attestation here, enrolling without proof")
            return null
        }
        val challenge = try {
            core.enrollChallenge().challenge
        } catch (e: FinlockException.Network) {
            throw e
        } catch (e: FinlockException.AlreadyEnrolled) {
            throw e
        } catch (e: FinlockException) {
            // A server without challenges (older version) or a refusal: enroll without.
            Log.w(TAG, "attested enrollment: no challenge (${e.javaClass.simpleName})")
            return null
        }
        val key = try {
            dpm.generateAttestedKey(ALGORITHM, keySpec(challenge), ID_FLAGS)
        } catch (e: RuntimeException) {
            // UnsupportedOperationException (no ID attestation after all), SecurityException
            // (not the owner any more), StrongBoxUnavailableException / ProviderException.
            Log.w(TAG, "attested enrollment: no attested key (${e.javaClass.simpleName})")
            null
        }
        if (key == null) {
            removeKey(dpm)
            return null
        }
        try {
            val binding = core.attestationBinding(challenge)
            val signature = Signature.getInstance(SIGNATURE_ALGORITHM).run {
                initSign(key.privateKey)
                update(binding)
                sign()
            }
            return AttestationProof(challenge = challenge, chain = key.chain, signature = signature)
        } catch (e: GeneralSecurityException) {
            Log.w(TAG, "attested enrollment: the attested key did not sign (${e.javaClass.simpleName})")
            return null
        } catch (e: ProviderException) {
            Log.w(TAG, "attested enrollment: the attested key did not sign (${e.javaClass.simpleName})")
            return null
        } finally {
            removeKey(dpm)
        }
    }

    private fun removeKey(dpm: DpmGateway) {
        try {
            dpm.removeKeyPair(KEY_ALIAS)
        } catch (e: RuntimeException) {
            Log.w(TAG, "attested enrollment: key not removed (${e.javaClass.simpleName})")
        }
    }
}
