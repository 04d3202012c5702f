"""What does Sigma expect? Pure: plain values in (and ``now``), no ORM, no request, no settings.

``constants`` (Sigma's names and limits), ``signing`` (claims, token, URL),
``controls`` (typed control values), ``validators`` (content URLs, options, claim
values), ``oauth`` (node-embed-sdk compatible token encryption).
"""
