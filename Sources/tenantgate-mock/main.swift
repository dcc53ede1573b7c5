import Foundation
import MockSTS
import NIOPosix

// `tenantgate-mock --listen HOST:PORT [--certificate CHAIN.pem --key KEY.pem]`: the mock Entra STS and the resource
// hosts it plays (Graph, SharePoint, Dataverse, Azure DevOps, and their streaming endpoints) as a process of its
// own, for measurements beside other proxies (`scripts/bench-resource-streams.sh`) and for trying things by hand.
// Without a certificate it mints one from a CA of its own and prints that CA. Runs until killed.
func value(_ flag: String) -> String? {
    let arguments = CommandLine.arguments
    return arguments.firstIndex(of: flag).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tenantgate-mock: \(message)\n".utf8))
    exit(2)
}

let listen = value("--listen") ?? "127.0.0.1:0"
guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
    fail("--listen takes HOST:PORT, not \(listen)")
}
let certificate: MockSTS.ServerCertificate?
switch (value("--certificate"), value("--key")) {
case (let chain?, let key?): certificate = MockSTS.ServerCertificate(chainPath: chain, keyPath: key)
case (nil, nil): certificate = nil
default: fail("--certificate and --key go together")
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
do {
    let sts = try await MockSTS.start(
        host: String(listen[..<colon]),
        port: port,
        group: group,
        serverCertificate: certificate
    )
    let announcement =
        (certificate == nil ? sts.caCertificatePEM + "\n" : "") + "listening on \(listen[..<colon]):\(sts.port)\n"
    FileHandle.standardOutput.write(Data(announcement.utf8))
    while true { try await Task.sleep(for: .seconds(3600)) }
} catch {
    fail("\(error)")
}
