"""An unmodified MSAL Python confidential client asking for a token through TenantGate.

MSAL's HTTP stack (requests) asks for gzip and deflate by default, which once got a blocked tenant's token past
the proxy unjudged. Prints one JSON object: {"has_access_token": bool, "error": ..., "error_codes": [...]}.
Usage: msal_client_credentials.py PROXY_URL CA_FILE AUTHORITY
"""
import json
import os
import sys

import msal


def main() -> None:
    proxy, ca_file, authority = sys.argv[1:4]
    # requests lets these variables override an explicit `verify`; the client trusts exactly TenantGate's CA here.
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(name, None)
    app = msal.ConfidentialClientApplication(
        "e002ab83-2360-4092-bd0b-5a4c52f2f15a",
        client_credential="s3cr3t-value",
        authority=authority,
        instance_discovery=False,
        verify=ca_file,
        proxies={"https": proxy},
        timeout=20,
    )
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
    print(json.dumps({
        "has_access_token": "access_token" in result,
        "error": result.get("error"),
        "error_codes": result.get("error_codes", []),
    }))


if __name__ == "__main__":
    main()
