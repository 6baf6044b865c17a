using System.Security.Claims;
using EdgeInference.Fleet.Store;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeInference.Fleet.Api;

/// <summary>
/// Who may call what. A bearer token (<see cref="BearerTokenHandler"/>) names a credential and its role; each endpoint
/// carries one of these policies, attached to its route group, so authorization follows the endpoint the router
/// matched — whatever the path's case, slashes or percent-encoding — and not a path prefix. An endpoint without a
/// policy needs an operator (the fallback), so a new endpoint is closed until someone opens it.
/// </summary>
public static class FleetAuthentication
{
    public const string Scheme = "Bearer";

    /// <summary>Anything: push packages, drive rollouts, enroll and tag devices.</summary>
    public const string OperatorPolicy = "operator";

    /// <summary>Read the API: operators and readers (dashboards).</summary>
    public const string ReaderPolicy = "reader";

    /// <summary>Download package files: operators, readers, and a download token for that package.</summary>
    public const string DownloadPolicy = "download";

    public static IServiceCollection AddFleetAuthentication(this IServiceCollection services)
    {
        services.AddAuthentication(Scheme).AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(Scheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(OperatorPolicy, policy => policy.RequireRole(Roles.Operator))
            .AddPolicy(ReaderPolicy, policy => policy.RequireRole(Roles.Operator, Roles.Reader))
            .AddPolicy(DownloadPolicy, policy => policy.RequireAssertion(context => context.User.IsInRole(Roles.Operator) || context.User.IsInRole(Roles.Reader)
                || (context.User.IsInRole(Roles.Download) && context.Resource is HttpContext http
                    && context.User.FindFirstValue(BearerTokenHandler.PackageClaim) == $"{http.Request.RouteValues["name"]}/{http.Request.RouteValues["version"]}")))
            .SetDefaultPolicy(OperatorOnly())
            .SetFallbackPolicy(OperatorOnly());
        return services;
    }

    /// <summary>The caller as <c>role:subject</c> (for audit fields such as a rollout's <c>created_by</c>).</summary>
    public static string? Subject(this HttpContext context) =>
        context?.User.Identity is { IsAuthenticated: true, Name: { } name } ? $"{context.User.FindFirstValue(ClaimTypes.Role)}:{name}" : null;

    /// <summary>The caller's role, or null when anonymous.</summary>
    public static string? Role(this HttpContext context) => context?.User.FindFirstValue(ClaimTypes.Role);

    private static AuthorizationPolicy OperatorOnly() => new AuthorizationPolicyBuilder(Scheme).RequireRole(Roles.Operator).Build();
}
