/// What happens to a response of an intercepted STS host that carries tokens outside the token endpoint
/// (`form_post` pages, redirect fragments, JSON): judged like a token response, or refused outright.
package enum TokenFlowHandling: String, Sendable, CaseIterable {
    case judge
    case refuse
}
