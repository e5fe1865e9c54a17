# packaging/install.mk - `make install`, `make uninstall`, `make deb`,
# `make rpm`, `make deps-pkg`.  Included by the Makefile (its last line),
# so PREFIX, DESTDIR, BUILD and VERSION come from there.
#
# Layout (see docs/packaging.md; packages build with PREFIX=/usr):
#
#   $(SBINDIR)/vigild                 the supervisor
#   $(BINDIR)/vigilctl                the control tool
#   $(LIBEXECDIR)/vigil-prober ...    the role binaries vigild starts
#   $(INCLUDEDIR)/vigil/vigil.h       the client header
#   $(PKGCONFIGDIR)/vigil.pc          header-only: share/pkgconfig
#   $(SYSCONFDIR)/vigil/vigil.conf    never overwritten once there
#   $(SYSCONFDIR)/vigil/keys/         0750, group vigil (tmpfiles.d too)
#   $(MANDIR)/manN/                   docs/*.[1578]
#   $(UNITDIR)/vigil.service, $(SYSUSERSDIR)/vigil.conf,
#   $(TMPFILESDIR)/vigil.conf
#   $(DOCDIR)/                        Prometheus rules, Alertmanager
#                                     example, Grafana dashboard
#
# A binary, man page or the default config that is not in the tree yet is
# skipped with a note rather than failing the rule: the tree is built by
# several people at once, and `make install` has to work at every stage.

INSTALL		?= install
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
LIBEXECDIR	?= $(PREFIX)/libexec/vigil
INCLUDEDIR	?= $(PREFIX)/include
PKGCONFIGDIR	?= $(PREFIX)/share/pkgconfig
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/vigil
SYSCONFDIR	?= /etc
LOCALSTATEDIR	?= /var
UNITDIR		?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
# Packages leave the key and state directories to tmpfiles.d and the
# maintainer scripts (they belong to root:vigil and vigil:vigil, which a
# build cannot set): they pass INSTALL_STATEDIRS=no.
INSTALL_STATEDIRS ?= yes

PKG_SBIN	 = vigild
PKG_BIN		 = vigilctl
PKG_LIBEXEC	 = vigil-prober vigil-aggregator vigil-api vigil-statuspage
PKG_MANS	:= $(wildcard docs/*.1 docs/*.5 docs/*.7 docs/*.8)
PKG_DOCS	 = packaging/prometheus/vigil.rules.yml \
		   packaging/prometheus/alertmanager.yml \
		   packaging/grafana/vigil-dashboard.json

.PHONY: uninstall deps-pkg deb rpm

# ---- install -------------------------------------------------------------

# $(call pkg_bins,DIR,NAMES): install each built NAME into DIR, note the
# ones not built (their sources have not landed).
define pkg_bins
	@for p in $(2); do \
		if [ -f $(BUILD)/$$p ]; then \
			echo "$(INSTALL) -m 0755 $(BUILD)/$$p $(DESTDIR)$(1)/$$p"; \
			$(INSTALL) -m 0755 $(BUILD)/$$p $(DESTDIR)$(1)/$$p || exit 1; \
		else \
			echo "install: note: $$p is not built yet, skipped"; \
		fi; \
	done
endef

install: programs
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(INCLUDEDIR)/vigil \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(SYSCONFDIR)/vigil \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR)
	$(call pkg_bins,$(SBINDIR),$(PKG_SBIN))
	$(call pkg_bins,$(BINDIR),$(PKG_BIN))
	$(call pkg_bins,$(LIBEXECDIR),$(PKG_LIBEXEC))
	$(INSTALL) -m 0644 include/vigil/vigil.h $(DESTDIR)$(INCLUDEDIR)/vigil/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(VERSION)|g' packaging/vigil.pc.in \
	    >$(DESTDIR)$(PKGCONFIGDIR)/vigil.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/vigil.pc
	@# An edited configuration is never overwritten: the new default
	@# goes beside it, as vigil.conf.dist.
	@c=$(DESTDIR)$(SYSCONFDIR)/vigil/vigil.conf; \
	if [ ! -f packaging/vigil.conf ]; then \
		echo "install: note: packaging/vigil.conf is not written yet, skipped"; \
	elif [ -f $$c ] && ! cmp -s packaging/vigil.conf $$c; then \
		echo "install: $$c exists, new default installed as $$c.dist"; \
		$(INSTALL) -m 0644 packaging/vigil.conf $$c.dist; \
	else \
		echo "$(INSTALL) -m 0644 packaging/vigil.conf $$c"; \
		$(INSTALL) -m 0644 packaging/vigil.conf $$c; \
	fi
	@for m in $(PKG_MANS); do \
		s=$${m##*.}; \
		echo "$(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/"; \
		$(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done
	@for p in vigild.8 vigilctl.1 vigil.conf.5 vigil.7; do \
		[ -f docs/$$p ] || echo "install: note: docs/$$p is not written yet, skipped"; \
	done
	sed -e 's|/usr/sbin/vigild|$(SBINDIR)/vigild|g' \
	    -e 's|/etc/vigil/|$(SYSCONFDIR)/vigil/|g' \
	    packaging/systemd/vigil.service >$(DESTDIR)$(UNITDIR)/vigil.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vigil.service
	$(INSTALL) -m 0644 packaging/systemd/vigil.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/vigil.conf
	$(INSTALL) -m 0644 packaging/systemd/vigil.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/vigil.conf
	$(INSTALL) -m 0644 $(PKG_DOCS) $(DESTDIR)$(DOCDIR)/
ifeq ($(INSTALL_STATEDIRS),yes)
	$(INSTALL) -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/vigil/keys \
	    $(DESTDIR)$(LOCALSTATEDIR)/lib/vigil
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	    getent group vigil >/dev/null 2>&1; then \
		chgrp vigil $(SYSCONFDIR)/vigil/keys; \
		chown vigil:vigil $(LOCALSTATEDIR)/lib/vigil; \
	elif [ -z "$(DESTDIR)" ]; then \
		echo "install: create the vigil user and the directories with:"; \
		echo "  systemd-sysusers $(SYSUSERSDIR)/vigil.conf && systemd-tmpfiles --create $(TMPFILESDIR)/vigil.conf"; \
	fi
endif

# Removes what `install` put there, but never the configuration, the keys
# or the state: those are the operator's.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vigild $(DESTDIR)$(BINDIR)/vigilctl
	rm -f $(addprefix $(DESTDIR)$(LIBEXECDIR)/,$(PKG_LIBEXEC))
	-rmdir $(DESTDIR)$(LIBEXECDIR)
	rm -f $(DESTDIR)$(INCLUDEDIR)/vigil/vigil.h
	-rmdir $(DESTDIR)$(INCLUDEDIR)/vigil
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/vigil.pc
	rm -f $(foreach m,$(PKG_MANS),$(DESTDIR)$(MANDIR)/man$(subst .,,$(suffix $(m)))/$(notdir $(m)))
	rm -f $(DESTDIR)$(UNITDIR)/vigil.service \
	    $(DESTDIR)$(SYSUSERSDIR)/vigil.conf $(DESTDIR)$(TMPFILESDIR)/vigil.conf
	rm -rf $(DESTDIR)$(DOCDIR)

# ---- packages --------------------------------------------------------------

# Tools the package targets need, on top of the build dependencies.
deps-pkg:
	@sh tools/deps.sh build
	@need=""; \
	command -v dh >/dev/null 2>&1 || need="$$need debhelper"; \
	command -v lintian >/dev/null 2>&1 || need="$$need lintian"; \
	command -v rpmbuild >/dev/null 2>&1 || need="$$need rpm"; \
	command -v debugedit >/dev/null 2>&1 || need="$$need debugedit"; \
	command -v dpkg-buildpackage >/dev/null 2>&1 || need="$$need dpkg-dev"; \
	command -v fakeroot >/dev/null 2>&1 || need="$$need fakeroot"; \
	[ -z "$$need" ] && exit 0; \
	echo "deps-pkg: installing:$$need"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$need

# $(call pkg_copy_tree,DIR): copy the source tree into DIR without build
# output: the files git knows (tracked, or new and not ignored) when this
# is a git checkout, else everything but build/ and .git/.  Never the
# files of an earlier build, so a package always builds from clean.
define pkg_copy_tree
	rm -rf $(1) && mkdir -p $(1)
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z -co --exclude-standard | \
		    xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
		    tar --null -T - -cf - | tar -C $(1) -xf -; \
	else \
		tar --exclude=./build --exclude=./.git -cf - . | tar -C $(1) -xf -; \
	fi
endef

# Where the package is built (emptied first), and where the .debs, .changes
# and .dsc are copied: an install test builds in a temporary directory.
DEB_TOP		?= build/deb
DEB_OUT		?= build
DEB_SRC		 = $(DEB_TOP)/vigil-$(VERSION)
# Set to build a package with another Debian version (an upgrade test,
# say): a changelog entry for it is added to the copy, never to the tree.
DEB_VERSION	?=
LINTIAN		?= yes

# A full build (source and binary): the .dsc is checked by lintian too.
deb: deps-pkg
	@v=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version); \
	if [ "$${v%-*}" != "$(VERSION)" ]; then \
		echo "deb: packaging/debian/changelog is at $$v, the Makefile at $(VERSION)"; \
		exit 1; \
	fi
	rm -rf $(DEB_TOP)
	$(call pkg_copy_tree,$(DEB_SRC))
	tar -C $(DEB_TOP) -czf $(DEB_TOP)/vigil_$(VERSION).orig.tar.gz \
	    vigil-$(VERSION)
	cp -R packaging/debian $(DEB_SRC)/debian
	rm -rf $(DEB_SRC)/debian/.debhelper
	@if [ -n "$(DEB_VERSION)" ]; then \
		{ printf 'vigil (%s) unstable; urgency=medium\n\n' "$(DEB_VERSION)"; \
		printf '  * Rebuild as %s.\n\n' "$(DEB_VERSION)"; \
		printf ' -- %s  %s\n\n' "$$(dpkg-parsechangelog -l packaging/debian/changelog -S Maintainer)" \
		    "$$(date -R)"; \
		cat packaging/debian/changelog; } >$(DEB_SRC)/debian/changelog; \
	fi
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc
	mkdir -p $(DEB_OUT)
	cp $(DEB_TOP)/*.deb $(DEB_TOP)/*.changes $(DEB_TOP)/*.dsc $(DEB_OUT)/
ifeq ($(LINTIAN),yes)
	lintian --fail-on error,warning --display-info --info $(DEB_TOP)/*.changes
endif
	@ls -1 $(DEB_OUT)/*.deb

RPM_TOP		 = $(CURDIR)/build/rpm
# BuildRequires name Fedora packages, which Debian's rpm database does
# not know: --nodeps.  Debian's rpm has no debuginfo tooling set up for
# it, hence no debuginfo package here (Fedora's own build makes one); and
# its brp-compress is a bash script started as /bin/sh (dash): run it
# with bash, or man pages stay uncompressed.
RPMBUILD_FLAGS	?= --nodeps --define 'debug_package %{nil}' \
		   --define '__brp_compress bash %{_rpmconfigdir}/brp-compress %{?_prefix}'

rpm: deps-pkg
	rm -rf $(RPM_TOP)
	$(call pkg_copy_tree,$(RPM_TOP)/tree/vigil-$(VERSION))
	mkdir -p $(RPM_TOP)/SOURCES
	tar -C $(RPM_TOP)/tree -czf $(RPM_TOP)/SOURCES/vigil-$(VERSION).tar.gz \
	    vigil-$(VERSION)
	rpmbuild -bb $(RPMBUILD_FLAGS) --define '_topdir $(RPM_TOP)' \
	    --define 'vigil_version $(VERSION)' packaging/rpm/vigil.spec
	cp $(RPM_TOP)/RPMS/*/*.rpm build/
	@ls -1 build/*.rpm
