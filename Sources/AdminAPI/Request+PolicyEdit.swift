import Foundation
import Hummingbird

extension Request {
    /// The body, which the route has already read whole within the limit (`AdminAPIRoutes`).
    func bodyData(context: AdminRequestContext) async throws -> Data {
        Data(try await body.collect(upTo: context.maxUploadSize).readableBytesView)
    }

    /// `If-Match` as the policy endpoints have always read it: of several fields, the last.
    var ifMatch: String? {
        headers[values: .ifMatch].last
    }
}
