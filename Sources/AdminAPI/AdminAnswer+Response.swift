import HTTPTypes
import Hummingbird
import NIOCore

extension AdminAnswer: ResponseGenerator {
    package func response(from _: Request, context _: some RequestContext) -> Response {
        response
    }

    /// The answer as Hummingbird's response: a 204 or an empty answer carries no content type.
    package var response: Response {
        var fields = HTTPFields()
        if !body.isEmpty || status != 204, let name = HTTPField.Name("content-type") {
            fields[name] = contentType
        }
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: fields,
            body: body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
