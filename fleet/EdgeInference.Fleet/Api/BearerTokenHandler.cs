using System.Security.Claims;
using System.Text.Encodings.Web;
using EdgeInference.Fleet.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Fleet.Api;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;token&gt;</c> against the stored credentials (only their SHA-256 is
/// kept). Refusals are the API's JSON errors: 401 names what is wrong with the token, 403 names the role and the
/// request it may not make.
/// </summary>
public sealed class BearerTokenHandler : AuthenticationHandler<AuthenticationSchemeOptions>
{
    private const string Prefix = "Bearer ";
    private readonly Credentials _credentials;

    public BearerTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, Credentials credentials)
        : base(options, logger, encoder)
    {
        _credentials = credentials;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization;
        if (header.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var value = header.ToString();
        if (header.Count > 1 || !value.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("the Authorization header must be one 'Bearer <token>'"));
        }

        if (_credentials.Find(value[Prefix.Length..].Trim()) is not { } credential)
        {
            return Task.FromResult(AuthenticateResult.Fail("the bearer token is not known here"));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, credential.Subject), new Claim(ClaimTypes.Role, credential.Role)], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
        Response.Headers.WWWAuthenticate = "Bearer";
        var message = result.Failure?.Message ?? "this API needs a bearer token (Authorization: Bearer …)";
        await FleetApi.Error(401, message).ExecuteAsync(Context).ConfigureAwait(false);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        FleetApi.Error(403, $"a {Context.Role()} token may not {Request.Method} {Request.Path}").ExecuteAsync(Context);
}
