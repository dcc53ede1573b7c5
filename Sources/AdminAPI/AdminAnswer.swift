import Foundation
import Plumbing

/// The admin API's answer.
package struct AdminAnswer: Sendable, Equatable {
    package let status: Int
    package let contentType: String
    package let headers: [(String, String)]
    package let body: [UInt8]

    package init(
        status: Int,
        contentType: String = "application/json; charset=utf-8",
        headers: [(String, String)] = [],
        body: [UInt8]
    ) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    package static func json(_ status: Int, _ object: Any, headers: [(String, String)] = []) -> AdminAnswer {
        AdminAnswer(status: status, headers: headers, body: Array(TenantFileRenderer.json(object, pretty: false).utf8))
    }

    static func empty(_ status: Int, headers: [(String, String)] = []) -> AdminAnswer {
        AdminAnswer(status: status, headers: headers, body: [])
    }

    package static func == (lhs: AdminAnswer, rhs: AdminAnswer) -> Bool {
        lhs.status == rhs.status && lhs.contentType == rhs.contentType && lhs.body == rhs.body
            && lhs.headers.map { "\($0.0):\($0.1)" } == rhs.headers.map { "\($0.0):\($0.1)" }
    }

    package func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// The two error shapes the admin API speaks: Power Platform's for tenant isolation, Graph's for cross-tenant
/// access settings (ENTRA-FACTS 4 and 5), so that existing clients read them.
enum AdminErrorBody {
    static func powerPlatform(
        _ status: Int,
        code: String,
        message: String,
        details: [String] = [],
        headers: [(String, String)] = []
    ) -> AdminAnswer {
        var error: [String: Any] = ["code": code, "message": message]
        if !details.isEmpty { error["details"] = details.map { ["code": "ValidationError", "message": $0] } }
        return .json(status, ["error": error], headers: headers)
    }

    static func graph(_ status: Int, code: String, message: String, headers: [(String, String)] = []) -> AdminAnswer {
        let innerError: [String: Any] = [
            "date": RFC3339.string(from: Date(), milliseconds: false),
            "request-id": UUID().uuidString.lowercased(),
        ]
        return .json(status, ["error": ["code": code, "message": message, "innerError": innerError]], headers: headers)
    }
}
