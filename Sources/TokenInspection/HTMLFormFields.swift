/// The named fields an HTML page would submit: every `<input>` with a `name` and a `value`, every `<textarea>` with
/// a `name` and its text, and every `<select>` with a `name` and its chosen `<option>`. Read as the HTML tokenizer
/// reads a page (WHATWG 13.2.5), so that a spelling a browser takes cannot hide a field, nor a look-alike swallow
/// one: every tag's attributes are read (a `<input` inside another tag's quoted value is text), comments and the raw
/// text of `<script>`, `<style>` and their kind are skipped; attributes are separated by any HTML white space or
/// `/`, with white space around `=`; character references are decoded in values (`id&#95token`, `id&lowbar;token`).
/// Names compare without ASCII case; the first of an attribute given twice counts, as in HTML.
enum HTMLFormFields {
    struct Field {
        let name: [UInt8]
        let value: [UInt8]
    }

    /// Elements whose content is text up to their end tag, not tags (textarea's is the field's value).
    private static let rawText: Set<String> = [
        "script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript",
    ]

    /// A `<select>` being read: what it submits is its selected option, else its first.
    private struct OpenSelect {
        let name: [UInt8]
        var chosen: [UInt8]?
        var first: [UInt8]?

        var field: Field { Field(name: name, value: chosen ?? first ?? []) }
    }

    static func read(_ page: [UInt8]) -> [Field] {
        var fields: [Field] = []
        var select: OpenSelect?
        var index = 0
        while let open = page[index...].firstIndex(of: UInt8(ascii: "<")) {
            index = open + 1
            if hasPrefix("!--", page, at: index) {
                index = (find(Array("-->".utf8), in: page, from: index + 3).map { $0 + 3 }) ?? page.count
                continue
            }
            if index < page.count, page[index] == UInt8(ascii: "/") || page[index] == UInt8(ascii: "!") {
                if let (tag, afterName) = tagName(page, from: index + 1), tag == "select", let open = select {
                    fields.append(open.field)
                    select = nil
                    index = afterName
                }
                index = page[index...].firstIndex(of: UInt8(ascii: ">")).map { $0 + 1 } ?? page.count
                continue
            }
            guard let (tag, afterName) = tagName(page, from: index) else { continue }
            let (attributes, end) = readAttributes(page, from: afterName)
            index = end
            let name = attributes["name"].map(decoded)
            switch tag {
            case "input":
                if let name, let value = attributes["value"] { fields.append(Field(name: name, value: decoded(value))) }
            case "select":
                if let name { select = OpenSelect(name: name) }
            case "option":
                guard select != nil else { break }
                let value = attributes["value"].map(decoded) ?? decoded(optionText(page, from: end))
                if select?.first == nil { select?.first = value }
                if attributes["selected"] != nil, select?.chosen == nil { select?.chosen = value }
            default:
                break
            }
            if rawText.contains(tag) {
                let close = find(Array("</\(tag)".utf8), in: page, from: end) ?? page.count
                if tag == "textarea", let name { fields.append(Field(name: name, value: decoded(page[end..<close]))) }
                index = close
            }
        }
        if let open = select { fields.append(open.field) }
        return fields
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }

    private static func hasPrefix(_ prefix: String, _ page: [UInt8], at index: Int) -> Bool {
        let bytes = Array(prefix.utf8)
        return index + bytes.count <= page.count && page[index..<(index + bytes.count)].elementsEqual(bytes)
    }

    /// A start tag's name (lower case) after `<`, and where its attributes start; nil when `<` opens no tag (a tag
    /// name begins with a letter).
    private static func tagName(_ page: [UInt8], from start: Int) -> (String, Int)? {
        guard start < page.count, isLetter(page[start]) else { return nil }
        var end = start
        while end < page.count, !isSpace(page[end]), page[end] != UInt8(ascii: "/"), page[end] != UInt8(ascii: ">") {
            end += 1
        }
        let name = page[start..<min(end, start + 16)].map { isLetter($0) ? $0 | 0x20 : $0 }
        return (String(decoding: name, as: UTF8.self), end)
    }

    /// A tag's attributes (names lower case; the first of a name counts) and the index after its `>`.
    private static func readAttributes(_ page: [UInt8], from start: Int) -> ([String: ArraySlice<UInt8>], Int) {
        var attributes: [String: ArraySlice<UInt8>] = [:]
        var index = start
        while index < page.count {
            while index < page.count, isSpace(page[index]) || page[index] == UInt8(ascii: "/") { index += 1 }
            guard index < page.count else { return (attributes, page.count) }
            guard page[index] != UInt8(ascii: ">") else { return (attributes, index + 1) }
            let nameStart = index
            index += 1  // a name may begin with `=`
            while index < page.count, !isSpace(page[index]),
                ![UInt8(ascii: "/"), UInt8(ascii: ">"), UInt8(ascii: "=")].contains(page[index])
            {
                index += 1
            }
            let name = String(
                decoding: page[nameStart..<min(index, nameStart + 32)].map { isLetter($0) ? $0 | 0x20 : $0 },
                as: UTF8.self
            )
            var after = index
            while after < page.count, isSpace(page[after]) { after += 1 }
            var value: ArraySlice<UInt8> = []
            if after < page.count, page[after] == UInt8(ascii: "=") {
                index = after + 1
                while index < page.count, isSpace(page[index]) { index += 1 }
                if index < page.count, page[index] == UInt8(ascii: "\"") || page[index] == UInt8(ascii: "'") {
                    let quote = page[index]
                    let end = page[(index + 1)...].firstIndex(of: quote) ?? page.endIndex
                    value = page[(index + 1)..<end]
                    index = min(end + 1, page.count)
                } else {
                    let valueStart = index
                    while index < page.count, !isSpace(page[index]), page[index] != UInt8(ascii: ">") { index += 1 }
                    value = page[valueStart..<index]
                }
            }
            if attributes[name] == nil { attributes[name] = value }
        }
        return (attributes, page.count)
    }

    /// An option's text, up to the next tag.
    private static func optionText(_ page: [UInt8], from start: Int) -> ArraySlice<UInt8> {
        let end = page[start...].firstIndex(of: UInt8(ascii: "<")) ?? page.count
        var text = page[start..<end]
        while let first = text.first, isSpace(first) { text = text.dropFirst() }
        while let last = text.last, isSpace(last) { text = text.dropLast() }
        return text
    }

    /// Named references that stand for the ASCII a field's name or a token is made of (the rest are letters, digits
    /// and `-`, which have none).
    private static let named: [String: UInt8] = [
        "lowbar": UInt8(ascii: "_"), "underbar": UInt8(ascii: "_"), "period": UInt8(ascii: "."),
        "equals": UInt8(ascii: "="), "amp": UInt8(ascii: "&"), "quot": UInt8(ascii: "\""), "apos": UInt8(ascii: "'"),
        "lt": UInt8(ascii: "<"), "gt": UInt8(ascii: ">"),
    ]

    /// Character references decoded as a browser decodes them in an attribute value: numeric ones with or without
    /// `;` and with any number of leading zeros, and the named ones of `named` with `;`.
    private static func decoded(_ text: ArraySlice<UInt8>) -> [UInt8] {
        guard text.contains(UInt8(ascii: "&")) else { return Array(text) }
        var out: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            guard text[index] == UInt8(ascii: "&") else {
                out.append(text[index])
                index += 1
                continue
            }
            if let (scalar, next) = numericReference(text, at: index) {
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                index = next
            } else if let semicolon = text[index...].prefix(12).firstIndex(of: UInt8(ascii: ";")),
                let byte = named[String(decoding: text[(index + 1)..<semicolon], as: UTF8.self).lowercased()]
            {
                out.append(byte)
                index = semicolon + 1
            } else {
                out.append(text[index])
                index += 1
            }
        }
        return out
    }

    /// `&#NNN` or `&#xHHH` at `index` (the `;` optional), its scalar and the index after it.
    private static func numericReference(_ text: ArraySlice<UInt8>, at index: Int) -> (Unicode.Scalar, Int)? {
        var cursor = index + 1
        guard cursor < text.endIndex, text[cursor] == UInt8(ascii: "#") else { return nil }
        cursor += 1
        let hex = cursor < text.endIndex && (text[cursor] | 0x20) == UInt8(ascii: "x")
        if hex { cursor += 1 }
        var value: UInt32 = 0
        let digitsStart = cursor
        while cursor < text.endIndex, let digit = digitValue(text[cursor], hex: hex) {
            value = min(value &* (hex ? 16 : 10) &+ digit, 0x11_0000)
            cursor += 1
        }
        guard cursor > digitsStart else { return nil }
        if cursor < text.endIndex, text[cursor] == UInt8(ascii: ";") { cursor += 1 }
        // A browser reads 0, a surrogate or a value beyond Unicode as U+FFFD.
        return (Unicode.Scalar(value) ?? "\u{FFFD}", cursor)
    }

    private static func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The first place `needle` (lower-case ASCII) occurs in `haystack` at or after `start`, without ASCII case.
    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            var matches = true
            for offset in 0..<needle.count {
                let byte = haystack[index + offset]
                let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                if folded != needle[offset] {
                    matches = false
                    break
                }
            }
            if matches { return index }
            index += 1
        }
        return nil
    }
}
