#!/usr/bin/perl

# The deployment, checked offline (there is no cluster and no container
# daemon here): the Helm chart passes "helm lint --strict" and renders,
# with its default values and with examples/gke-values.yaml, into
# resources that kubeconform finds valid against Kubernetes' own JSON
# schemas (PyPI's kubernetes-validate, made local by t/tools/k8s_schemas.py,
# with no network); the nginx.conf it renders passes "nginx -t" with the
# module, and the workers' settings pass their own "-t"; the container
# file installs build.sh's own package list to build, and in each image
# the packages of every library its program links.
#
# helm and kubeconform are built from the Go module proxy by
# t/engines/go-tools.sh (minutes, the first time), the Python venv by
# t/engines/py-install.sh.

use strict;
use warnings;

use lib 't/lib';
use JSON::PP;
use Test::More;
use Race::Test;

my $t = Race::Test->new;
my $dir = $t->dir;
my $root = $t->root;
my $build = $t->build;
my $cache = $t->cache;
my $chart = "$root/deploy/helm/ngx-race";
my $gke = "$chart/examples/gke-values.yaml";

# the Kubernetes version of the schemas, and the one helm renders for
my $K8S = '1.37.0';

sub run_out {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

# the tools

my ($rc, $out) = run_out("$root/t/engines/go-tools.sh $cache");
is($rc, 0, 'go-tools.sh builds helm and kubeconform') or diag($out);
my ($helm) = $out =~ m{^(/\S+/helm-v[\d.]+)$}m;
my ($kubeconform) = $out =~ m{^(/\S+/kubeconform-v[\d.]+)$}m;
ok($helm && -x $helm && $kubeconform && -x $kubeconform, 'and prints them')
    or BAIL_OUT("no helm or kubeconform:\n$out");

($rc, $out) = run_out("$root/t/engines/py-install.sh $cache");
is($rc, 0, 'py-install.sh makes the venv') or diag($out);
my ($venv) = $out =~ m{^(/\S+/py-\w+)$}m;
my $python = "$venv/bin/python3";
-x $python or BAIL_OUT("no venv python:\n$out");

my $schemas = "$dir/schemas";
($rc, $out) = run_out("$python $root/t/tools/k8s_schemas.py $schemas $K8S");
is($rc, 0, "k8s_schemas.py writes the $K8S schemas") or diag($out);
ok(-f "$schemas/deployment-apps-v1.json"
    && -f "$schemas/_definitions.json", 'under kubeconform\'s names');
unlike($t->read_file("$schemas/deployment-apps-v1.json"),
    qr/"\$id"|"\$ref": *"\/api\//, 'no $id, no $ref to a URL');

# kubeconform with no network at all, when this machine lets a user
# namespace drop it (the schema location is a local folder either way)
my $offline = system('unshare -rn true >/dev/null 2>&1') == 0
    ? 'unshare -rn ' : '';
note($offline ? 'kubeconform runs without a network'
              : 'unshare -rn is not allowed here: kubeconform runs as is');

my $location = "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json";

# helm template ARGS -> [documents] (YAML read by the venv's PyYAML)
sub render {
    my ($name, @args) = @_;

    my $file = "$dir/$name.yaml";
    my ($rc, $out) = run_out(join ' ', $helm, 'template', 'race', $chart,
        '--namespace', 'race', '--kube-version', $K8S, @args,
        "> $file");
    is($rc, 0, "$name: helm template") or diag($out . $t->read_file($file));

    my $json = `$python -c 'import json, sys, yaml
print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))' < $file`;
    return ($file, decode_json($json || '[]'));
}

# kubeconform FILE -> its JSON report
sub conform {
    my ($file) = @_;

    my $json = `${offline}$kubeconform -strict -summary -verbose -output json \\
        -kubernetes-version $K8S -schema-location '$location' $file 2>&1`;
    my $report = eval { decode_json($json) } or diag($json);
    return $report || { resources => [], summary => {} };
}

my %EXPECT = (ConfigMap => 3, Deployment => 3, Service => 3,
              PodDisruptionBudget => 3, Ingress => 1);

my %rendered;

for my $case (['default', ()], ['gke', '-f', $gke]) {
    my ($name, @values) = @$case;

    ($rc, $out) = run_out(
        "$helm lint --strict --kube-version $K8S $chart @values");
    is($rc, 0, "$name: helm lint --strict") or diag($out);

    my ($file, $docs) = render($name, @values);
    $rendered{$name} = $docs;

    my %kinds;
    $kinds{$_->{kind}}++ for @$docs;
    is_deeply(\%kinds, \%EXPECT, "$name: the resources rendered")
        or diag(explain(\%kinds));

    my $r = conform($file);
    my $s = $r->{summary};
    is("$s->{valid}/$s->{invalid}/$s->{errors}/$s->{skipped}",
        scalar(@$docs) . '/0/0/0', "$name: kubeconform, all valid, none"
        . ' skipped') or diag(explain($r));

    my %valid;
    $valid{$_->{kind}}++ for grep { $_->{status} eq 'statusValid' }
        @{$r->{resources}};
    is_deeply(\%valid, \%EXPECT, "$name: every kind validated");
}

# the check is not a rubber stamp: a wrong value is caught

{
    my ($file) = render('bad', '--set', 'nginx.replicas=two');
    my $s = conform($file)->{summary};
    is($s->{invalid}, 1, 'kubeconform finds a Deployment with replicas "two"');
}

# the Gateway API route, off by default, renders when asked (its kind is
# not in Kubernetes' schemas: not validated here)

{
    my (undef, $docs) = render('gateway', '--set', 'gateway.enabled=true',
        '--set', 'gateway.parentRefs[0].name=external');
    my ($route) = grep { $_->{kind} eq 'HTTPRoute' } @$docs;
    is($route && $route->{spec}{parentRefs}[0]{name}, 'external',
        'gateway.enabled renders an HTTPRoute');
}

# what the chart promises, in the rendered resources

sub find {
    my ($docs, $kind, $name) = @_;
    my ($d) = grep { $_->{kind} eq $kind && $_->{metadata}{name} eq $name }
        @$docs;
    return $d;
}

for my $name (sort keys %rendered) {
    my $docs = $rendered{$name};
    my $nginx = find($docs, 'Deployment', 'race-ngx-race-nginx');
    my $spec = $nginx->{spec}{template}{spec};
    my $c = $spec->{containers}[0];

    # ready when nginx answers, not by /race_ready: a Kafka or Redis
    # outage would take every pod out of the Service at once
    is("$c->{readinessProbe}{httpGet}{port} "
        . "$c->{readinessProbe}{httpGet}{path}", 'http /healthz',
        "$name: nginx is ready by /healthz on the site's port");
    is($c->{livenessProbe}{httpGet}{path}, '/healthz',
        "$name: and alive by /healthz");
    like(join(' ', @{$c->{lifecycle}{preStop}{exec}{command}}),
        qr/kill -QUIT/, "$name: its preStop is nginx's graceful stop");

    my $conf = find($docs, 'ConfigMap', 'race-ngx-race-nginx')
        ->{data}{'nginx.conf'};
    my ($shutdown) = $conf =~ /worker_shutdown_timeout (\d+)s;/;
    cmp_ok($spec->{terminationGracePeriodSeconds}, '>', $shutdown + 5,
        "$name: the grace period outlasts worker_shutdown_timeout");

    my ($keys) = grep { $_->{name} eq 'keys' } @{$spec->{volumes}};
    ok($keys->{secret}{secretName}, "$name: the token keys from a Secret");

    for my $w (qw(race-tracker race-accounts)) {
        my $d = find($docs, 'Deployment', "race-ngx-race-$w");
        my $wc = $d->{spec}{template}{spec}{containers}[0];
        my $a = $d->{spec}{template}{metadata}{annotations};

        is($wc->{livenessProbe}{httpGet}{path}, '/healthz',
            "$name: $w alive by /healthz");
        is($wc->{readinessProbe}{httpGet}{path}, '/readyz',
            "$name: $w ready by /readyz");
        is($wc->{readinessProbe}{httpGet}{port}, 'metrics',
            "$name: on its metrics port");
        is("$a->{'prometheus.io/scrape'} $a->{'prometheus.io/port'}"
            . " $a->{'prometheus.io/path'}", 'true 9464 /metrics',
            "$name: $w scraped on 9464");
        ok((grep { $_->{name} eq 'RACE_MONGO_URI'
                   && $_->{valueFrom}{secretKeyRef}{name} } @{$wc->{env}}),
            "$name: $w has its MongoDB URI from a Secret");
    }
}

# nginx.conf's server on PORT, the text between its braces
sub server_of {
    my ($conf, $port) = @_;

    for my $server (split /^\s*server \{$/m, $conf) {
        return $server if $server =~ /^\s*listen $port\b/m;
    }
    return '';
}

# an IPv4 address in a CIDR range
sub in_cidr {
    my ($addr, $cidr) = @_;

    my ($net, $bits) = split m{/}, $cidr;
    $bits //= 32;
    my ($a, $n) = map { unpack 'N', pack 'C4', split /\./ } $addr, $net;
    my $mask = $bits ? (0xffffffff << (32 - $bits)) & 0xffffffff : 0;
    return ($a & $mask) == ($n & $mask);
}

for my $name (sort keys %rendered) {
    my $docs = $rendered{$name};
    my $conf = find($docs, 'ConfigMap', 'race-ngx-race-nginx')
        ->{data}{'nginx.conf'};
    my $site = server_of($conf, 8080);

    # the readiness probe's answer is static: nginx runs, nothing more
    like($site, qr!location = /healthz \{[^}]*return 200 "ok\\n";[^}]*\}!,
        "$name: /healthz on the site's port answers 200 by itself");
    like($site, qr!location = /race_ready \{[^}]*race_ready;!,
        "$name: /race_ready is there for load balancers and alerts");

    # the metrics port is never reached from outside the pods' network
    my $svc = find($docs, 'Service', 'race-ngx-race-nginx');
    my @ports = map { ($_->{port}, $_->{targetPort}) }
        @{$svc->{spec}{ports}};
    ok(@ports && !(grep { /^(9464|metrics)$/ } @ports),
        "$name: nginx's Service has no metrics port") or diag("@ports");

    my $ingress = find($docs, 'Ingress', 'race-ngx-race');
    my @backends = map { $_->{backend}{service}{port} }
        map { @{$_->{http}{paths}} } @{$ingress->{spec}{rules}};
    ok(@backends && !(grep { ($_->{number} // '') eq '9464'
            || ($_->{name} // '') eq 'metrics' } @backends),
        "$name: nor does the Ingress reach it");
}

# the client's address: X-Forwarded-For is trusted from the ingress
# controller's pods alone, the controller's Service keeps the address

{
    my %conf = map { $_ => find($rendered{$_}, 'ConfigMap',
        'race-ngx-race-nginx')->{data}{'nginx.conf'} } keys %rendered;

    unlike($conf{default}, qr/set_real_ip_from|real_ip_header/,
        'default: X-Forwarded-For is trusted from nobody');

    my @trusted = $conf{gke} =~ /^\s*set_real_ip_from (\S+);/mg;
    ok(@trusted, 'gke: X-Forwarded-For is trusted from ingress-nginx');
    like($conf{gke}, qr/^\s*real_ip_header X-Forwarded-For;/m,
        'gke: the real address from X-Forwarded-For');

    # the example's ranges (gke-values.yaml): nodes 10.128.0.0/20, pods
    # 10.8.0.0/14: a node (an SNATed connection) or any other pod could
    # name any client
    for my $addr (['10.128.0.5', 'a node'], ['10.8.1.7', 'another pod']) {
        ok(!(grep { in_cidr($addr->[0], $_) } @trusted),
            "gke: not from $addr->[1] ($addr->[0])") or diag("@trusted");
    }

    my $values = "$chart/examples/ingress-nginx-values.yaml";
    my $json = `$python -c 'import json, sys, yaml
print(json.dumps(yaml.safe_load(sys.stdin)))' < $values`;
    my $iv = eval { decode_json($json) } || {};
    my $ctl = $iv->{controller} || {};
    is($ctl->{service}{externalTrafficPolicy}, 'Local',
        'ingress-nginx keeps the client\'s address (externalTrafficPolicy'
        . ' Local)');
    is($ctl->{config}{'use-forwarded-headers'}, 'false',
        'and believes no X-Forwarded-For of the clients\'');
    my $pool = $ctl->{nodeSelector}{'cloud.google.com/gke-nodepool'};
    like($t->read_file($gke), qr/node-pools create \Q$pool\E\b/,
        'on the node pool whose pod range nginx trusts')
        if $pool;
    ok($pool, 'ingress-nginx runs on a node pool of its own');
}

# nginx -t on the rendered nginx.conf, with the module, its paths made
# this folder's

my $module = $t->module;
mkdir "$dir/html";
mkdir "$dir/run";

sub nginx_t {
    my ($name, $conf) = @_;

    my $file = $t->write_file("$name.conf", $conf);
    my $env = $t->san_env("$name-t", leaks => 0);
    local @ENV{keys %$env} = values %$env;
    my $out = `/usr/sbin/nginx -t -p $dir/ -c $file -e $dir/$name.err 2>&1`;
    return ($? >> 8, $out);
}

for my $name (sort keys %rendered) {
    my $conf = find($rendered{$name}, 'ConfigMap', 'race-ngx-race-nginx')
        ->{data}{'nginx.conf'};

    for my $kid ($conf =~ m{race_token_key (\S+) /etc/ngx_race/keys/}g) {
        $t->write_file("keys/$kid", 'k' x 48 . "\n");
        chmod 0640, "$dir/keys/$kid";
    }

    # first: this folder is under /tmp too
    $conf =~ s{/tmp/}{$dir/run/}g;
    $conf =~ s{load_module /usr/lib/nginx/modules/ngx_http_race_module\.so;}
              {load_module $module;} or fail('no load_module');
    $conf =~ s{/etc/ngx_race/keys/}{$dir/keys/}g;
    $conf =~ s{/etc/ngx_race/common-passwords\.txt}
              {$root/conf/common-passwords.txt};
    $conf =~ s{/usr/share/ngx_race/html}{$dir/html}g;
    # race_redis is resolved now: a Service's name is not, here
    $conf =~ s{race_redis (?!\d+\.\d+\.\d+\.\d+:)[^:;]+:}
              {race_redis 127.0.0.1:};
    $conf = "user root root;\n$conf" if $> == 0;

    my ($rc, $out) = nginx_t("nginx-$name", $conf);
    is($rc, 0, "$name: the rendered nginx.conf passes nginx -t")
        or diag($out);
}

# the workers' settings, as the pods give them, pass their own -t

sub worker_t {
    my ($w, $args, $conf) = @_;

    my $file = $t->write_file("$w.conf", $conf);
    my @args = map {
        my $a = $_;
        $a =~ s{^/etc/ngx_race/conf/\Q$w\E\.conf$}{$file};
        # Kubernetes puts the Secret's value there
        $a =~ s{\$\(RACE_MONGO_URI\)}
               {mongodb+srv://race:pw\@race.abcde.mongodb.net/?w=majority};
        "'$a'";
    } @$args;

    my $env = $t->san_env("$w-t", leaks => 0);
    local @ENV{keys %$env} = values %$env;
    my $out = `$build/workers/$w @args -t 2>&1`;
    return ($? >> 8, $out);
}

for my $name (sort keys %rendered) {
    for my $w (qw(race-tracker race-accounts)) {
        my $docs = $rendered{$name};
        my $args = find($docs, 'Deployment', "race-ngx-race-$w")
            ->{spec}{template}{spec}{containers}[0]{args};
        my $conf = find($docs, 'ConfigMap', "race-ngx-race-$w")
            ->{data}{"$w.conf"};

        like($conf, qr/^metrics_listen 0\.0\.0\.0:9464$/m,
            "$name: $w serves its metrics on 9464");

        my ($rc, $out) = worker_t($w, $args, $conf);

        is($rc, 0, "$name: $w -t accepts the pod's settings") or diag($out);
    }
}

# the container file: build.sh's package list to build, and in each
# image the package of every library its program links

my @packages;
{
    my ($list) = $t->read_file("$root/build.sh") =~ /^PACKAGES=\((.*?)^\)/ms;
    $list =~ s/#.*$//mg;
    @packages = split ' ', $list;
}
($rc, $out) = run_out("$root/build.sh packages");
is_deeply([split ' ', $out], \@packages,
    'build.sh packages prints its PACKAGES') or diag($out);

my $dockerfile = $t->read_file("$root/deploy/docker/Dockerfile");
$dockerfile =~ s/\\\n/ /g;

my %stage;
{
    my $current;
    for my $line (split /\n/, $dockerfile) {
        $current = $1 if $line =~ /^FROM \S+ AS (\S+)/i;
        $stage{$current} .= "$line\n" if defined $current;
    }
}

sub installs {
    my ($stage) = @_;
    my ($list) = ($stage{$stage} || '')
        =~ /apt-get install .*?--no-install-recommends (.*?)(?:&&|$)/m;
    return split ' ', $list || '';
}

is_deeply([installs('build')], ['$(/src/build.sh', 'packages)'],
    'the build stage installs build.sh\'s list');
like($stage{build}, qr{COPY build\.sh /src/build\.sh}, 'from build.sh itself');
like($stage{build}, qr{RUN cd /src && RACE_BUILD_DIR=/build \./build\.sh image},
    'and builds with build.sh');
like($t->read_file("$root/.dockerignore"), qr{^build$}m,
    '.dockerignore leaves build/ out');

# what the chart's nginx.conf and pods expect of the nginx image
{
    my $conf = find($rendered{default}, 'ConfigMap', 'race-ngx-race-nginx')
        ->{data}{'nginx.conf'};
    my $nginx = $stage{nginx};
    my @paths = ($conf =~ m{load_module (/\S+)/ngx_http_race_module\.so;},
        $conf =~ m{^\s*root (/\S+);}m,
        $conf =~ m{race_auth_common_passwords (/\S+);});

    is(scalar(grep { index($nginx, $_) >= 0 } @paths), 3,
        'the nginx image has the module, the web client and the passwords'
        . ' where nginx.conf looks') or diag("@paths");
    like($nginx, qr{^CMD \["-c", "/etc/ngx_race/conf/nginx\.conf"\]}m,
        'and runs the chart\'s nginx.conf');
    like($nginx, qr{^STOPSIGNAL SIGQUIT}m, 'and stops gracefully');
    like($nginx, qr{^USER 10001}m, 'as the user the pods run as');
}

# this machine's multiarch triplet (x86_64-linux-gnu, aarch64-linux-gnu)
chomp(my $multiarch = `gcc -print-multiarch 2>/dev/null` || '');

# a library's package, as dpkg knows it (under /usr: the merged /lib
# is a link): the one of this machine's architecture
sub package_of {
    my ($lib) = @_;
    my ($path) = grep { !$multiarch || m{/\Q$multiarch\E/} }
        `ldconfig -p` =~ /^\s*\Q$lib\E \([^)]*\) => (\S+)/mg
        or return undef;
    chomp(my $real = `readlink -f $path`);
    for my $p ($path, "/usr$path", $real, "/usr$real") {
        my $pkg = `dpkg -S $p 2>/dev/null`;
        return $1 if $pkg =~ /^([^:\s]+)/;
    }
    return undef;
}

for my $image (['nginx', "$build/ngx_http_race_module.so"],
               ['race-tracker', "$build/workers/race-tracker"],
               ['race-accounts', "$build/workers/race-accounts"],
               ['race-accounts', "$build/tools/race-token"])
{
    my ($stage, $bin) = @$image;
    my %has = map { $_ => 1 } installs($stage), 'libc6';

    ok($has{nginx}, 'the nginx image has Debian\'s nginx') if $stage eq 'nginx';

    my @libs = grep { !/^lib(asan|ubsan)\./ }
        `objdump -p $bin` =~ /^\s+NEEDED\s+(\S+)/mg;
    my @missing = grep { my $p = package_of($_); !$p || !$has{$p} } @libs;

    ok(@libs && !@missing, "the $stage image has the libraries of "
        . ($bin =~ s{.*/}{}r)) or diag("missing: @missing");
}

$t->done;
