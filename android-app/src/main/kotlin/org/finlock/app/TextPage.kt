package org.finlock.app

import android.app.Activity
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView

/** A page of headed paragraphs, for the disclosure and the release notice. */
internal fun Activity.showPage(title: Int, vararg sections: Pair<Int, Int>, close: Boolean = true) {
    val pad = (20 * resources.displayMetrics.density).toInt()
    val column = LinearLayout(this).apply {
        orientation = LinearLayout.VERTICAL
        setPadding(pad, pad, pad, pad)
    }
    column.addView(TextView(this).apply {
        id = R.id.title
        setText(title)
        textSize = 24f
        isAccessibilityHeading = true
    })
    for ((heading, body) in sections) {
        column.addView(TextView(this).apply {
            setText(heading)
            textSize = 18f
            isAccessibilityHeading = true
            setPadding(0, pad, 0, 0)
        })
        column.addView(TextView(this).apply {
            setText(body)
            textSize = 16f
        })
    }
    if (close) {
        column.addView(Button(this).apply {
            setText(R.string.close)
            contentDescription = getString(R.string.close)
            setOnClickListener { finish() }
        })
    }
    setContentView(ScrollView(this).apply { addView(column) })
}
