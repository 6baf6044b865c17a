using System.Security.Claims;
using System.Text.Encodings.Web;
using EdgeInference.Fleet.Hosting;
using EdgeInference.Fleet.Packages;
using EdgeInference.Fleet.Store;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeInference.Fleet.Api;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;token&gt;</c>: a package download token (<see cref="DownloadTokens"/>,
/// role <see cref="Roles.Download"/>, with the package it opens), or else a stored credential (only their SHA-256 is
/// kept). Refusals are the API's JSON errors: 401 names what is wrong with the token, 403 names the role and the
/// request it may not make.
/// </summary>
public sealed class BearerTokenHandler : AuthenticationHandler<AuthenticationSchemeOptions>
{
    private const string Prefix = "Bearer ";
    /// <summary>The claim naming the package a download token opens (<c>name/version</c>).</summary>
    public const string PackageClaim = "edgefleet:package";

    private readonly Credentials _credentials;
    private readonly DownloadTokens _downloads;
    private readonly IFleetStore _store;

    public BearerTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, Credentials credentials, DownloadTokens downloads, IFleetStore store)
        : base(options, logger, encoder)
    {
        _store = store;
        _credentials = credentials;
        _downloads = downloads;
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

        var token = value[Prefix.Length..].Trim();
        if (token.StartsWith(DownloadTokens.Prefix, StringComparison.Ordinal))
        {
            if (_downloads.Validate(token, out var problem) is not { } package)
            {
                return Task.FromResult(AuthenticateResult.Fail(problem));
            }

            if (_store.GetDevice(package.DeviceId) is { RevokedAt: not null })
            {
                return Task.FromResult(AuthenticateResult.Fail($"the download token's device '{package.DeviceId}' was revoked"));
            }

            var download = new ClaimsIdentity(
                [new Claim(ClaimTypes.Name, package.DeviceId), new Claim(ClaimTypes.Role, Roles.Download), new Claim(PackageClaim, $"{package.Name}/{package.Version}")],
                Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(download), Scheme.Name)));
        }

        if (_credentials.Find(token) is not { } credential)
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
