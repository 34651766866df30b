package org.finlock.app

import android.app.Activity
import android.content.Context
import android.content.Intent
import android.net.Uri
import android.os.Bundle
import android.webkit.WebResourceRequest
import android.webkit.WebView
import android.webkit.WebViewClient

/**
 * The lender's payment, support or terms page, in-app (browsers are not allowed in lock
 * task). Navigation is restricted to the host of the URL it was opened with.
 */
class WebPageActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setShowWhenLocked(true)
        val url = intent.getStringExtra(EXTRA_URL)
        val host = url?.let { Uri.parse(it).host }
        if (url == null || host == null || !isAllowed(url, host)) {
            finish()
            return
        }
        val web = WebView(this)
        web.contentDescription = url
        web.settings.javaScriptEnabled = true
        web.settings.allowFileAccess = false
        web.webViewClient = HostOnlyClient(host)
        setContentView(web)
        web.loadUrl(url)
    }

    /** Stays on one host; everything else is refused. */
    class HostOnlyClient(private val host: String) : WebViewClient() {
        override fun shouldOverrideUrlLoading(view: WebView, request: WebResourceRequest): Boolean =
            !isAllowed(request.url.toString(), host)
    }

    companion object {
        const val EXTRA_URL = "url"

        fun intent(context: Context, url: String) =
            Intent(context, WebPageActivity::class.java).putExtra(EXTRA_URL, url)

        /** https on exactly [host] (plain http only for the emulator's host and loopback). */
        fun isAllowed(url: String, host: String): Boolean {
            val uri = Uri.parse(url)
            val local = uri.host in setOf("10.0.2.2", "127.0.0.1", "localhost")
            val schemeOk = uri.scheme == "https" || (uri.scheme == "http" && local)
            return schemeOk && uri.host.equals(host, ignoreCase = true)
        }
    }
}
