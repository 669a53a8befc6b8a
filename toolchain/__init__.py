"""The code behind the nox sessions of the Workonflow Call API toolchain."""
